// The one place errors become HTTP: typed AppErrors keep their status and code, body-parser's errors get
// codes of their own, and anything else is a 500 whose details stay in the log, never in the response.
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, TooManyRequests } from '../../core/errors';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The shape of the errors body-parser (via http-errors) raises; `type` names what went wrong. */
interface BodyParserError {
  status: number;
  type: string;
  expose?: boolean;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Record<string, unknown>;
  return typeof e.status === 'number' && typeof e.type === 'string';
}

function bodyParserResponse(err: BodyParserError): { status: number; body: ErrorBody } | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return { status: 400, body: { error: { code: 'MALFORMED_JSON', message: 'the request body is not valid JSON' } } };
    case 'entity.too.large':
      return { status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body is too large' } } };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return { status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported content encoding or charset' } } };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'the request body could not be read' } } };
    default:
      return null;
  }
}

/** The id pino-http gave the request, or the one the client sent, to find the log line of a 500. */
function requestIdOf(req: Request): string | undefined {
  // pino-http sets `req.id`; its type augmentation is not visible here, hence the narrow cast.
  const id = (req as Request & { id?: unknown }).id;
  if (typeof id === 'string' || typeof id === 'number') return String(id);
  return req.get('x-request-id');
}

/**
 * A 4xx that Express's own machinery raised (http-errors, or the router's 400 for an undecodable URL
 * parameter): the client's mistake, so it keeps its status, with the standard reason as message. Those
 * set both `status` and `statusCode`; SDK errors (an LLM provider's 401 or 429) set only `status` and
 * must stay 500s, or a client would read a provider's 401 as its own session ending.
 */
function clientErrorStatus(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  return typeof status === 'number' && status === statusCode && status >= 400 && status < 500 ? status : null;
}

function codeOfStatus(status: number): string {
  return (STATUS_CODES[status] ?? 'Bad Request').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    // Express's own rule: once the response has started, only its default handler can cut the connection.
    if (res.headersSent) {
      next(err);
      return;
    }
    const requestId = requestIdOf(req);

    if (err instanceof AppError) {
      if (err.status >= 500) logger.error({ err, requestId }, 'request failed');
      const body: ErrorBody = { error: { code: err.code, message: err.message } };
      if (err.details !== undefined) body.error.details = err.details;
      if (err instanceof TooManyRequests && err.retryAfterSeconds !== undefined) {
        res.setHeader('Retry-After', String(Math.ceil(err.retryAfterSeconds)));
      }
      res.status(err.status).json(body);
      return;
    }

    const mapped = isBodyParserError(err) ? bodyParserResponse(err) : null;
    if (mapped) {
      res.status(mapped.status).json(mapped.body);
      return;
    }

    const clientStatus = clientErrorStatus(err);
    if (clientStatus !== null) {
      const message = STATUS_CODES[clientStatus] ?? 'Bad Request';
      res.status(clientStatus).json({ error: { code: codeOfStatus(clientStatus), message } } satisfies ErrorBody);
      return;
    }

    logger.error({ err, requestId, method: req.method, url: req.originalUrl }, 'unhandled error');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal server error' } } satisfies ErrorBody);
  };
}

/** The last route: anything no router answered. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('ROUTE_NOT_FOUND', 404, `no route for ${req.method} ${req.path}`));
};
