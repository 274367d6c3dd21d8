// The Temporal connection settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY) against a TLS front door on loopback that
// asks for a client certificate and an API key, as Temporal Cloud does: a whole run goes through it, and a
// connection without the certificate or with another key is refused.
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, type TemporalSecurity } from '../core/config';
import { temporalConnectionOptions } from '../db/temporal-connection';
import { singleAgentGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, startRun, waitForExecution } from './support/session';
import { startTestStack } from './support/stack';
import { testTemporalAddress } from './support/temporal';
import { makeTestCertificates, startTlsGrpcProxy, type TestCertificates, type TlsGrpcProxy } from './support/tls-grpc-proxy';

const API_KEY = 'tessera-test-api-key';
let certs: TestCertificates;
let proxy: TlsGrpcProxy;

function security(overrides: Partial<NonNullable<TemporalSecurity['tls']>> = {}, apiKey: string | null = API_KEY): TemporalSecurity {
  return { tls: { certPath: certs.clientCert, keyPath: certs.clientKey, caPath: certs.caCert, serverName: 'localhost', ...overrides }, apiKey };
}

beforeAll(async () => {
  certs = makeTestCertificates();
  proxy = await startTlsGrpcProxy(testTemporalAddress(), certs, API_KEY);
});

afterAll(async () => {
  await proxy.close();
  certs.remove();
});

it('runs a canvas with the API and the worker connected over mTLS with an API key', async () => {
  const before = proxy.counts.passed;
  const stack = await startTestStack({ temporalConnection: temporalConnectionOptions(proxy.address, security()) });
  try {
    const owner = await registerTenant(stack);
    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1' }));
    const executionId = await startRun(stack, owner, workflowId, { topic: 'otters' });
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ out: expect.stringContaining('otters') });
  } finally {
    await stack.close();
  }
  // The client's start and the worker's polls and completions all went through the front door.
  expect(proxy.counts.passed - before).toBeGreaterThan(5);
});

it('is refused without a client certificate, with one from another CA, and with another API key', async () => {
  const probe = async (s: TemporalSecurity) => {
    const connection = await Connection.connect({ ...temporalConnectionOptions(proxy.address, s), connectTimeout: '5 seconds' });
    try {
      return await connection.workflowService.getSystemInfo({});
    } finally {
      await connection.close();
    }
  };
  await expect(probe(security())).resolves.toBeDefined();
  await expect(probe(security({ certPath: null, keyPath: null }))).rejects.toThrow();
  await expect(probe(security({ certPath: certs.strangerCert, keyPath: certs.strangerKey }))).rejects.toThrow();
  const refusedBefore = proxy.counts.refusedKey;
  // The client's connect asks Temporal for its system info: the front door answers UNAUTHENTICATED.
  await expect(probe(security({}, 'another-key'))).rejects.toThrow(/Failed to connect/);
  expect(proxy.counts.refusedKey).toBeGreaterThan(refusedBefore);

  // The worker's native (Rust) connection takes the same options.
  const native = await NativeConnection.connect(temporalConnectionOptions(proxy.address, security()));
  try {
    await expect(native.workflowService.getSystemInfo({})).resolves.toBeDefined();
  } finally {
    await native.close();
  }
  await expect(NativeConnection.connect(temporalConnectionOptions(proxy.address, security({}, 'another-key')))).rejects.toThrow();
});

it('names the setting of a file it cannot use', () => {
  expect(() => temporalConnectionOptions(proxy.address, security({ caPath: `${certs.dir}/missing.crt` }))).toThrow(ConfigError);
  expect(() => temporalConnectionOptions(proxy.address, security({ caPath: `${certs.dir}/missing.crt` }))).toThrow(/TEMPORAL_TLS_CA: cannot use .*missing\.crt/);
  expect(() => temporalConnectionOptions(proxy.address, security({ keyPath: `${certs.dir}/ca.srl` }))).toThrow(/TEMPORAL_TLS_KEY: .*no PEM block/);
});
