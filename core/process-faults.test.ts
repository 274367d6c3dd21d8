import { EventEmitter } from 'node:events';
import { installFaultHandlers, redactedUrl, reportClientErrors, startupStep, uncaughtExceptionVerdict, type FaultLogger } from './process-faults';

function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
  const logger: FaultLogger = { info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') };
  return { logger, lines };
}

function systemError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} failed`), { code, syscall, errno: -2 });
}

describe('uncaughtExceptionVerdict', () => {
  it('keeps serving after an I/O object nobody listened to fails, and exits after a programming error', () => {
    expect(uncaughtExceptionVerdict(systemError('ENOENT', 'lstat'))).toBe('keep-serving');
    expect(uncaughtExceptionVerdict(systemError('ECONNRESET', 'read'))).toBe('keep-serving');
    expect(uncaughtExceptionVerdict(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('keep-serving');
    expect(uncaughtExceptionVerdict(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }))).toBe('keep-serving');
    expect(uncaughtExceptionVerdict(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe('fatal');
    expect(uncaughtExceptionVerdict(Object.assign(new Error('bad'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe('fatal');
    expect(uncaughtExceptionVerdict('a string')).toBe('fatal');
  });
});

describe('installFaultHandlers', () => {
  it('logs an unhandled rejection with its reason and keeps the process', () => {
    const source = new EventEmitter();
    const { logger, lines } = recordingLogger();
    const exit = jest.fn();
    installFaultHandlers(source, logger, { processName: 'api', exit });
    const reason = new Error('nobody awaited me');
    source.emit('unhandledRejection', reason);
    expect(exit).not.toHaveBeenCalled();
    expect(lines).toEqual([{ level: 'error', fields: { err: reason, fault: 'unhandledRejection' }, message: expect.stringContaining('keeps serving') }]);
  });

  it('logs a stream error nobody handled and keeps the process; exits 1 after a TypeError', () => {
    const source = new EventEmitter();
    const { logger, lines } = recordingLogger();
    const exit = jest.fn();
    installFaultHandlers(source, logger, { processName: 'worker', exit });
    source.emit('uncaughtException', systemError('ENOENT', 'lstat'), 'uncaughtException');
    expect(exit).not.toHaveBeenCalled();
    expect(lines[0]).toMatchObject({ level: 'error', fields: { fault: 'uncaughtException', origin: 'uncaughtException' } });
    source.emit('uncaughtException', new TypeError('x is not a function'), 'uncaughtException');
    expect(exit).toHaveBeenCalledWith(1);
    expect(lines[1]).toMatchObject({ level: 'fatal', message: expect.stringContaining('worker: an uncaught exception') });
  });
});

describe('reportClientErrors', () => {
  it('logs the first error of an outage, stays quiet while it lasts, and says when the client is back', () => {
    const client = new EventEmitter();
    const { logger, lines } = recordingLogger();
    reportClientErrors(client, 'redis', logger);
    client.emit('error', systemError('ECONNREFUSED', 'connect'));
    client.emit('error', systemError('ECONNREFUSED', 'connect'));
    client.emit('ready');
    client.emit('error', systemError('ECONNRESET', 'read'));
    expect(lines.map((l) => [l.level, l.fields.client])).toEqual([
      ['warn', 'redis'],
      ['info', 'redis'],
      ['warn', 'redis'],
    ]);
  });
});

describe('startupStep', () => {
  it('names the step that failed', async () => {
    await expect(startupStep('connect to PostgreSQL at postgres://db/x', () => Promise.reject(systemError('ECONNREFUSED', 'connect')))).rejects.toThrow(
      'could not connect to PostgreSQL at postgres://db/x: ECONNREFUSED: connect failed',
    );
    await expect(startupStep('do nothing', () => Promise.resolve(7))).resolves.toBe(7);
  });
});

it('redacts the password of a URL for the log', () => {
  expect(redactedUrl('postgres://app:s3cret@db:5432/tessera')).toBe('postgres://app:***@db:5432/tessera');
  expect(redactedUrl('postgres://postgres@127.0.0.1:5432/tessera')).toBe('postgres://postgres@127.0.0.1:5432/tessera');
  expect(redactedUrl('not a url')).toBe('(an unparsable URL)');
});
