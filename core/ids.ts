// The one UUID check of the project: resource ids (runs, workflows, tenants, credentials) are UUIDs, and
// a string that is not one can name no row.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any-case UUID (ids in URLs and documents may be upper case; stored ids are lower case). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
