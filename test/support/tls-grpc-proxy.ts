// A stand-in for Temporal Cloud's front door on loopback: an HTTP/2 server over TLS that asks for a client
// certificate signed by its CA (mTLS), checks the API key in each call's `authorization` header, and passes the
// gRPC call on to the plain dev server. Also writes the PEM files (a CA, the server's and a client's
// certificate) with the openssl command line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestCertificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the proxy does not trust. */
  strangerCert: string;
  strangerKey: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function issue(dir: string, name: string, subject: string, ca: { cert: string; key: string }, extensions: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-tls-'));
  const selfSigned = (name: string) =>
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`], dir);
  selfSigned('ca');
  selfSigned('stranger-ca');
  issue(dir, 'server', '/CN=localhost', { cert: 'ca.crt', key: 'ca.key' }, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue(dir, 'client', '/CN=tessera-worker', { cert: 'ca.crt', key: 'ca.key' }, 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'stranger', '/CN=stranger', { cert: 'stranger-ca.crt', key: 'stranger-ca.key' }, 'extendedKeyUsage=clientAuth\n');
  const at = (file: string) => path.join(dir, file);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    strangerCert: at('stranger.crt'),
    strangerKey: at('stranger.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsGrpcProxy {
  address: string;
  /** Calls passed on to Temporal, and calls refused for their API key. */
  counts: { passed: number; refusedKey: number };
  close(): Promise<void>;
}

const GRPC_UNAUTHENTICATED = '16';

export async function startTlsGrpcProxy(upstreamAddress: string, certs: TestCertificates, apiKey: string): Promise<TlsGrpcProxy> {
  const upstream = http2.connect(`http://${upstreamAddress}`);
  upstream.on('error', () => undefined);
  const counts = { passed: 0, refusedKey: 0 };
  const server = http2.createSecureServer({
    key: readFileSync(certs.serverKey),
    cert: readFileSync(certs.serverCert),
    ca: readFileSync(certs.caCert),
    requestCert: true,
    rejectUnauthorized: true,
  });
  // A client that failed to connect may leave its session open: closing the proxy ends them all.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers['authorization'] !== `Bearer ${apiKey}`) {
      counts.refusedKey++;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': GRPC_UNAUTHENTICATED, 'grpc-message': 'bad API key' }, { endStream: true });
      return;
    }
    counts.passed++;
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name !== ':authority' && name !== ':scheme' && value !== undefined) forwarded[name] = value;
    }
    const call = upstream.request(forwarded);
    call.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    let trailers: http2.IncomingHttpHeaders = { 'grpc-status': '0' };
    // A call the client gave up on (a worker's long poll at shutdown) is given up upstream too.
    stream.on('close', () => call.close());
    call.on('response', (responseHeaders) => {
      if (stream.destroyed || stream.closed) return;
      const { ':status': status, ...rest } = responseHeaders;
      // A trailers-only answer (an error at once) carries its status in the headers and ends there.
      if (rest['grpc-status'] !== undefined) {
        stream.respond({ ':status': status, ...rest }, { endStream: true });
        return;
      }
      stream.respond({ ':status': status, ...rest }, { waitForTrailers: true });
      call.pipe(stream);
    });
    call.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('wantTrailers', () => {
      if (!stream.destroyed) stream.sendTrailers(trailers as http2.OutgoingHttpHeaders);
    });
    stream.pipe(call);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    counts,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      upstream.destroy();
      await closed;
    },
  };
}
