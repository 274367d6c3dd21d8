// JSON request bodies: refuses a body of another media type with 415 (express.json alone would skip it
// silently and leave `req.body` undefined), then parses with a size limit.
import express, { type RequestHandler } from 'express';
import { AppError } from '../../core/errors';

const JSON_TYPES = ['application/json', 'application/*+json'];

export function jsonBody(options: { limit?: string | number } = {}): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    // An empty body is no body (fetch sends `content-length: 0` on a bare POST); `req.is` answers null
    // when there is none at all. Either is fine for any route.
    const empty = req.headers['content-length'] === '0';
    if (!empty && req.is(JSON_TYPES) === false) {
      next(new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'request bodies must be application/json'));
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit: options.limit ?? '1mb', type: JSON_TYPES })];
}
