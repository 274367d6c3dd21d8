// The options every process connects to Temporal with (the API's client, the worker's native connection): the
// address, and, for Temporal Cloud or a server behind TLS, the TLS material read from its PEM files and the API
// key. Both connection kinds take the same shape, so the API and the worker cannot drift apart.
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError, type TemporalSecurity } from '../core/config';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

function pem(setting: string, file: string): Buffer {
  try {
    const content = readFileSync(file);
    if (!content.includes('-----BEGIN ')) throw new Error('it holds no PEM block (-----BEGIN …)');
    return content;
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  ${setting}: cannot use ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads the files the settings name; a missing or unreadable file is a ConfigError naming the setting. */
export function temporalConnectionOptions(address: string, security: TemporalSecurity): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address };
  if (security.tls) {
    const { certPath, keyPath, caPath, serverName } = security.tls;
    options.tls = {
      ...(certPath && keyPath ? { clientCertPair: { crt: pem('TEMPORAL_TLS_CERT', certPath), key: pem('TEMPORAL_TLS_KEY', keyPath) } } : {}),
      ...(caPath ? { serverRootCACertificate: pem('TEMPORAL_TLS_CA', caPath) } : {}),
      ...(serverName ? { serverNameOverride: serverName } : {}),
    };
  }
  if (security.apiKey) options.apiKey = security.apiKey;
  return options;
}
