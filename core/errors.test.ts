import { AppError, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, ValidationFailed } from './errors';

describe('application errors', () => {
  test.each([
    [new NotFound('workflow w1 not found'), 'NOT_FOUND', 404],
    [new Forbidden(), 'FORBIDDEN', 403],
    [new Unauthorized(), 'UNAUTHORIZED', 401],
    [new ValidationFailed('bad body', { issues: [] }), 'VALIDATION_FAILED', 400],
    [new Conflict(), 'CONFLICT', 409],
    [new TooManyRequests('slow down', 30), 'TOO_MANY_REQUESTS', 429],
  ])('%s carries its code and HTTP status', (error, code, status) => {
    expect(error).toBeInstanceOf(AppError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.name).toBe(error.constructor.name);
  });

  test('details and messages are kept for the error body', () => {
    const error = new ValidationFailed('bad body', { issues: [{ path: ['name'] }] });
    expect(error.message).toBe('bad body');
    expect(error.details).toEqual({ issues: [{ path: ['name'] }] });
    expect(new TooManyRequests('slow down', 30).retryAfterSeconds).toBe(30);
  });
});
