// JSON request bodies: refuses a body of another media type with 415 (express.json alone would skip it
// silently and leave `req.body` undefined), then parses with a size limit, then refuses text PostgreSQL
// cannot store (NUL characters, unpaired UTF-16 surrogates) or nests too deep for what reads it next with a
// 400 instead of a database error or a stack overflow.
import express, { type RequestHandler } from 'express';
import { AppError } from '../../core/errors';
import { JSON_MAX_DEPTH, jsonTooDeep } from '../../core/limits';

const JSON_TYPES = ['application/json', 'application/*+json'];

// A NUL, or a high surrogate not followed by a low one, or a low one not preceded by a high one.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What PostgreSQL or the code after this would refuse in a parsed body, in one walk without recursion: nesting
 * deeper than JSON_MAX_DEPTH (whatever else is wrong), else the first string (key or value) that text and
 * jsonb cannot store, by its path. Null when the body is fine.
 */
function bodyProblem(value: unknown): AppError | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: 'body', depth: 0 }];
  let unstorableAt: string | null = null;
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (unstorableAt === null && UNSTORABLE.test(v)) unstorableAt = path;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > JSON_MAX_DEPTH) return jsonTooDeep();
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: `${path}.${i}`, depth: depth + 1 }));
      continue;
    }
    for (const [k, item] of Object.entries(v)) {
      if (unstorableAt === null && UNSTORABLE.test(k)) unstorableAt = `${path}.${k.replace(UNSTORABLE, '?')}`;
      stack.push({ value: item, path: `${path}.${k}`, depth: depth + 1 });
    }
  }
  return unstorableAt === null ? null : new AppError('UNSUPPORTED_TEXT', 400, 'text may not contain NUL characters or unpaired UTF-16 surrogates', { path: unstorableAt });
}

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
  const requireStorableText: RequestHandler = (req, _res, next) => {
    next(bodyProblem(req.body) ?? undefined);
  };
  return [requireJson, express.json({ limit: options.limit ?? '1mb', type: JSON_TYPES }), requireStorableText];
}
