// Typed application errors shared by the server, the worker and core: each carries the code and HTTP status
// the API answers with (`{error: {code, message, details?}}`, DESIGN.md §4), so mapping happens in one place.

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;

  constructor(code: string, status: number, message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export class NotFound extends AppError {
  constructor(message = 'Not found', details?: unknown) {
    super('NOT_FOUND', 404, message, details);
  }
}

export class Forbidden extends AppError {
  constructor(message = 'Forbidden', details?: unknown) {
    super('FORBIDDEN', 403, message, details);
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'Authentication required', details?: unknown) {
    super('UNAUTHORIZED', 401, message, details);
  }
}

export class ValidationFailed extends AppError {
  constructor(message = 'The request is invalid', details?: unknown) {
    super('VALIDATION_FAILED', 400, message, details);
  }
}

export class Conflict extends AppError {
  constructor(message = 'Conflict', details?: unknown) {
    super('CONFLICT', 409, message, details);
  }
}

export class TooManyRequests extends AppError {
  /** Seconds the client should wait, for the `Retry-After` header. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message = 'Too many requests', retryAfterSeconds?: number, details?: unknown) {
    super('TOO_MANY_REQUESTS', 429, message, details);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
