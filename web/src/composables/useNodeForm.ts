// Shared by the node forms: edit one field of the node's data immutably, and the type's zod schema's
// complaints per field, recomputed as the user types.
import { computed, type Ref } from 'vue';
import { NODE_DATA_SCHEMAS, transformDataSchema, type NodeType } from '../../../core/graph';

export type NodeData = Record<string, unknown>;

export function useNodeForm(type: NodeType, data: Ref<NodeData>, emit: (data: NodeData) => void) {
  /** Sets `path` (dot separated) to `value`; `undefined` or '' removes the key, so optional fields stay absent. */
  function set(path: string, value: unknown): void {
    const next = JSON.parse(JSON.stringify(data.value)) as NodeData;
    const keys = path.split('.');
    let target: NodeData = next;
    for (const key of keys.slice(0, -1)) {
      const child = target[key];
      if (typeof child !== 'object' || child === null || Array.isArray(child)) target[key] = {};
      target = target[key] as NodeData;
    }
    const last = keys.at(-1) as string;
    if (value === undefined || value === '') delete target[last];
    else target[last] = value;
    emit(next);
  }

  /** A number input's value: empty means "not set". */
  function setNumber(path: string, raw: string): void {
    set(path, raw.trim() === '' ? undefined : Number(raw));
  }

  const issues = computed<Record<string, string>>(() => {
    const schema = type === 'transform' ? ('expression' in data.value ? transformDataSchema.options[1] : transformDataSchema.options[0]) : NODE_DATA_SCHEMAS[type];
    const parsed = schema.safeParse(data.value);
    const map: Record<string, string> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = issue.path.map(String).join('.') || '_';
        map[key] ??= issue.message;
      }
    }
    return map;
  });

  return { set, setNumber, issues };
}
