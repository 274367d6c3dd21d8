// The MCP tool name of each workflow of a tenant: a slug of the workflow's name, unique within the tenant.
// Names must stay the same from one `tools/list` to the next, so a client that saw a name can call it.

/** MCP tool names are 1–128 characters of `A-Z a-z 0-9 _ - .`; a slug keeps well under that. */
const SLUG_MAX = 48;

export interface NamedWorkflow {
  id: string;
  name: string;
  createdAt: Date;
}

/**
 * A workflow's name as a tool name: lower case, every run of other characters one `_`, at most 48 characters;
 * `workflow` when nothing is left (a name of only punctuation or another script).
 */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/_+$/, '');
  return slug || 'workflow';
}

/**
 * Tool name → workflow id for every workflow. The oldest workflow with a slug gets the bare slug; a later one
 * with the same slug gets `<slug>_<first 8 hex digits of its id>` (all 32 when even that is taken), so adding
 * a workflow never renames one a client already knows.
 */
export function toolNamesOf(workflows: readonly NamedWorkflow[]): Map<string, string> {
  const ordered = [...workflows].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  const byName = new Map<string, string>();
  const later: NamedWorkflow[] = [];
  for (const w of ordered) {
    const slug = slugOf(w.name);
    if (byName.has(slug)) later.push(w);
    else byName.set(slug, w.id);
  }
  for (const w of later) {
    const hex = w.id.replace(/-/g, '').toLowerCase();
    const short = `${slugOf(w.name)}_${hex.slice(0, 8)}`;
    byName.set(byName.has(short) ? `${slugOf(w.name)}_${hex}` : short, w.id);
  }
  return byName;
}
