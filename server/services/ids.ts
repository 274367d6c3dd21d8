// Resource ids in URLs are UUIDs; anything else cannot name a row, so it is a 404 like any unknown id.
import { NotFound } from '../../core/errors';
import { isUuid } from '../../core/ids';

export function requireUuid(id: string, what: string): string {
  if (!isUuid(id)) throw new NotFound(`${what} ${id} not found`);
  return id.toLowerCase();
}
