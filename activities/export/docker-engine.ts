// Which Docker engine a deployment talks to, and what a deployment says when that engine cannot be reached:
// a connection error from dockerode becomes a failure that names the engine's address (the one dockerode
// really dials: DOCKER_HOST, or the default socket), so the deployment records why it failed.
import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';

export const DOCKER_ENGINE_UNREACHABLE = 'DockerEngineUnreachable';

/** Errors of a connection that never got an answer from the engine (as opposed to an engine's 4xx/5xx). */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT', // a unix socket path where nothing lives
  'EACCES', // a socket this user may not open
  'EPERM',
  'ENOTSOCK',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** docker-modem's own fields: dockerode has no accessor for the address it dials. */
interface ModemAddress {
  socketPath?: string | (() => string | Promise<string>);
  host?: string;
  port?: string | number;
  protocol?: string;
}

/** The engine's address as Docker writes it: unix:///var/run/docker.sock, tcp://127.0.0.1:2375, ssh://… */
export async function engineAddress(docker: Docker): Promise<string> {
  const modem = docker.modem as unknown as ModemAddress;
  if (modem.socketPath) {
    const socketPath = typeof modem.socketPath === 'function' ? await modem.socketPath() : modem.socketPath;
    return `unix://${socketPath}`;
  }
  const scheme = modem.protocol === 'ssh' ? 'ssh' : 'tcp';
  const tls = modem.protocol === 'https' ? ' (TLS)' : '';
  return `${scheme}://${modem.host ?? 'localhost'}${modem.port ? `:${modem.port}` : ''}${tls}`;
}

export function isEngineConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_ERRORS.has(code);
}

/**
 * Runs one call to the engine; a connection error becomes DockerEngineUnreachable naming the address (left
 * retryable: an engine that restarts comes back, and the workflow's retry policy bounds the attempts).
 */
export async function onEngine<T>(docker: Docker, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isEngineConnectionError(err)) throw err;
    const address = await engineAddress(docker);
    // Not `instanceof Error`: errors from another realm (a test's VM context) are errors too.
    const message = (err as { message?: unknown }).message;
    const reason = typeof message === 'string' ? message : String(err);
    throw ApplicationFailure.create({
      type: DOCKER_ENGINE_UNREACHABLE,
      message: `the Docker engine at ${address} is not reachable (${reason}); start it, or point DOCKER_HOST at one`,
      // No `cause`: the deployment records the innermost message of a failure, and this one is the clear one.
      details: [{ address, code: (err as { code?: string }).code ?? null }],
    });
  }
}
