// Route parameters: Express types them loosely, so routes read them through this one accessor.
import type { Request } from 'express';
import { NotFound } from '../../core/errors';

/** The `:id` of the route; a missing or repeated id cannot name anything, so it is a 404. */
export function idOf(req: Request): string {
  const id = req.params.id;
  if (typeof id !== 'string' || !id) throw new NotFound('no such resource');
  return id;
}
