// Resource ids in URLs are UUIDs; anything else cannot name a row, so it is a 404 like any unknown id.
import { NotFound } from '../../core/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function requireUuid(id: string, what: string): string {
  if (!UUID.test(id)) throw new NotFound(`${what} ${id} not found`);
  return id.toLowerCase();
}
