// The canvas being edited: the graph (source of truth; Vue Flow only renders it), selection, a command
// history for undo/redo, the clipboard, validation by core/validate, and saving as a new version.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CanvasEdge, CanvasGraph, CanvasNode, NodeType } from '../../../core/graph';
import { validateGraph, type GraphValidation } from '../../../core/validate';
import { apiRequest } from '../api/client';
import type { WorkflowVersion, WorkflowView } from '../api/types';
import { connectionProblem, type ProposedConnection } from '../canvas/connection-rules';
import { layoutGraph } from '../canvas/layout';
import { PROBLEM_TITLES } from '../canvas/problem-titles';
import { defaultNodeData } from '../canvas/node-catalog';

/** A node as the editor keeps it: always positioned. */
export type EditorNode = CanvasNode & { position: { x: number; y: number } };

interface Snapshot {
  nodes: EditorNode[];
  edges: CanvasEdge[];
}

const HISTORY_LIMIT = 200;
// Typing in a form field makes one history entry per pause, not one per keystroke.
const COALESCE_MS = 800;
const PASTE_OFFSET = 40;

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function positioned(graph: CanvasGraph): Snapshot {
  return {
    nodes: graph.nodes.map((n, i) => ({ ...clone(n), position: n.position ?? { x: i * 240, y: 0 } })),
    edges: clone(graph.edges),
  };
}

export const useEditorStore = defineStore('editor', () => {
  const workflowId = ref<string | null>(null);
  const name = ref('');
  const version = ref(0);
  const nodes = ref<EditorNode[]>([]);
  const edges = ref<CanvasEdge[]>([]);
  const selectedNodeIds = ref<string[]>([]);
  const selectedEdgeIds = ref<string[]>([]);
  const past = ref<Snapshot[]>([]);
  const future = ref<Snapshot[]>([]);
  const savedJson = ref('');
  const savedName = ref('');
  const validation = shallowRef<GraphValidation>({ valid: true, errors: [] });
  const notice = ref<string | null>(null);
  const saving = ref(false);
  let clipboard: Snapshot | null = null;
  let lastCoalesceKey: string | null = null;
  let lastCoalesceAt = 0;

  const graph = computed<CanvasGraph>(() => ({ nodes: nodes.value, edges: edges.value }));
  const graphDirty = computed(() => JSON.stringify(graph.value) !== savedJson.value);
  const nameDirty = computed(() => name.value.trim() !== savedName.value);
  const dirty = computed(() => graphDirty.value || nameDirty.value);
  /** Why Run is disabled, for the button's label; null when the canvas can run. */
  const runBlockedReason = computed<string | null>(() => {
    const { valid, errors } = validation.value;
    if (valid) return null;
    const first = errors[0];
    const more = errors.length > 1 ? ` and ${errors.length - 1} more` : '';
    return `Can’t run yet: ${first ? PROBLEM_TITLES[first.code].toLowerCase() : 'the canvas has problems'}${more}. See the Problems tab.`;
  });
  const canUndo = computed(() => past.value.length > 0);
  const canRedo = computed(() => future.value.length > 0);
  const selectedNode = computed(() =>
    selectedNodeIds.value.length === 1 ? nodes.value.find((n) => n.id === selectedNodeIds.value[0]) : undefined,
  );
  const problemsByNode = computed(() => {
    const map = new Map<string, string[]>();
    for (const p of validation.value.errors) {
      if (p.nodeId) map.set(p.nodeId, [...(map.get(p.nodeId) ?? []), p.message]);
    }
    return map;
  });
  const problemsByEdge = computed(() => {
    const map = new Map<string, string[]>();
    for (const p of validation.value.errors) {
      if (p.edgeId) map.set(p.edgeId, [...(map.get(p.edgeId) ?? []), p.message]);
    }
    return map;
  });

  function revalidate(): void {
    validation.value = validateGraph(graph.value);
  }

  function snapshot(): Snapshot {
    return { nodes: clone(nodes.value), edges: clone(edges.value) };
  }

  function restoreSnapshot(s: Snapshot): void {
    nodes.value = s.nodes;
    edges.value = s.edges;
    const ids = new Set(s.nodes.map((n) => n.id));
    selectedNodeIds.value = selectedNodeIds.value.filter((id) => ids.has(id));
    const edgeIds = new Set(s.edges.map((e) => e.id));
    selectedEdgeIds.value = selectedEdgeIds.value.filter((id) => edgeIds.has(id));
    revalidate();
  }

  /** Records the state before a change; a `coalesceKey` merges quick successive changes of the same thing. */
  function record(coalesceKey?: string): void {
    const now = Date.now();
    if (coalesceKey !== undefined && coalesceKey === lastCoalesceKey && now - lastCoalesceAt < COALESCE_MS) {
      lastCoalesceAt = now;
      return;
    }
    lastCoalesceKey = coalesceKey ?? null;
    lastCoalesceAt = now;
    past.value = [...past.value.slice(-(HISTORY_LIMIT - 1)), snapshot()];
    future.value = [];
  }

  function undo(): void {
    const previous = past.value.at(-1);
    if (!previous) return;
    future.value = [...future.value, snapshot()];
    past.value = past.value.slice(0, -1);
    lastCoalesceKey = null;
    restoreSnapshot(previous);
  }

  function redo(): void {
    const next = future.value.at(-1);
    if (!next) return;
    past.value = [...past.value, snapshot()];
    future.value = future.value.slice(0, -1);
    lastCoalesceKey = null;
    restoreSnapshot(next);
  }

  function reset(view: { id: string | null; name: string; version: number; graph: CanvasGraph }): void {
    workflowId.value = view.id;
    name.value = view.name;
    savedName.value = view.name;
    version.value = view.version;
    const s = positioned(view.graph);
    nodes.value = s.nodes;
    edges.value = s.edges;
    savedJson.value = JSON.stringify(graph.value);
    selectedNodeIds.value = [];
    selectedEdgeIds.value = [];
    past.value = [];
    future.value = [];
    notice.value = null;
    revalidate();
  }

  async function load(id: string): Promise<void> {
    const view = await apiRequest<WorkflowView>('GET', `/api/v1/workflows/${encodeURIComponent(id)}`);
    reset(view);
  }

  function refuse(message: string): string {
    notice.value = message;
    return message;
  }

  function uniqueId(prefix: string, taken: Set<string>): string {
    for (let i = 1; ; i++) {
      const id = `${prefix}_${i}`;
      if (!taken.has(id)) return id;
    }
  }

  /** Adds a node of `type`; returns why it was refused, or the new node's id. */
  function addNode(type: NodeType, position: { x: number; y: number }): { id?: string; problem?: string } {
    if (type === 'trigger' && nodes.value.some((n) => n.type === 'trigger')) {
      return { problem: refuse('a workflow has exactly one trigger') };
    }
    record();
    const id = uniqueId(type, new Set(nodes.value.map((n) => n.id)));
    nodes.value = [...nodes.value, { id, type, position: { x: Math.round(position.x), y: Math.round(position.y) }, data: defaultNodeData(type) }];
    selectedNodeIds.value = [id];
    selectedEdgeIds.value = [];
    notice.value = null;
    revalidate();
    return { id };
  }

  function checkConnection(c: ProposedConnection): string | null {
    return connectionProblem(nodes.value, edges.value, c);
  }

  function connect(c: ProposedConnection): string | null {
    const problem = checkConnection(c);
    if (problem) return refuse(problem);
    record();
    const id = uniqueId(`e_${c.source}_${c.target}`, new Set(edges.value.map((e) => e.id)));
    const edge: CanvasEdge = { id, source: c.source, target: c.target, ...(c.sourceHandle ? { sourceHandle: c.sourceHandle } : {}) };
    edges.value = [...edges.value, edge];
    notice.value = null;
    revalidate();
    return null;
  }

  /** Called when a drag starts, so the whole drag is one undo step. */
  function beginMove(): void {
    record();
  }

  function moveNode(id: string, position: { x: number; y: number }): void {
    const node = nodes.value.find((n) => n.id === id);
    if (node) node.position = { x: Math.round(position.x), y: Math.round(position.y) };
  }

  function updateNodeData(id: string, data: Record<string, unknown>): void {
    const index = nodes.value.findIndex((n) => n.id === id);
    const node = nodes.value[index];
    if (!node) return;
    record(`data:${id}`);
    nodes.value = nodes.value.map((n, i) => (i === index ? { ...n, data: clone(data) } : n));
    revalidate();
  }

  function select(nodeIds: string[], edgeIds: string[] = []): void {
    selectedNodeIds.value = nodeIds;
    selectedEdgeIds.value = edgeIds;
  }

  function removeSelected(): void {
    const nodeIds = new Set(selectedNodeIds.value);
    const edgeIds = new Set(selectedEdgeIds.value);
    if (nodeIds.size === 0 && edgeIds.size === 0) return;
    record();
    nodes.value = nodes.value.filter((n) => !nodeIds.has(n.id));
    edges.value = edges.value.filter((e) => !edgeIds.has(e.id) && !nodeIds.has(e.source) && !nodeIds.has(e.target));
    selectedNodeIds.value = [];
    selectedEdgeIds.value = [];
    revalidate();
  }

  function removeEdges(ids: string[]): void {
    const drop = new Set(ids);
    if (!edges.value.some((e) => drop.has(e.id))) return;
    record();
    edges.value = edges.value.filter((e) => !drop.has(e.id));
    revalidate();
  }

  function copy(): number {
    const ids = new Set(selectedNodeIds.value);
    if (ids.size === 0) return 0;
    clipboard = {
      nodes: clone(nodes.value.filter((n) => ids.has(n.id))),
      edges: clone(edges.value.filter((e) => ids.has(e.source) && ids.has(e.target))),
    };
    return clipboard.nodes.length;
  }

  /** Pastes the clipboard with fresh ids, offset from the originals; a second trigger is left out. */
  function paste(): string[] {
    if (!clipboard || clipboard.nodes.length === 0) return [];
    const hasTrigger = nodes.value.some((n) => n.type === 'trigger');
    const taken = new Set(nodes.value.map((n) => n.id));
    const renamed = new Map<string, string>();
    const added: EditorNode[] = [];
    for (const n of clipboard.nodes) {
      if (n.type === 'trigger' && hasTrigger) continue;
      const id = uniqueId(n.type, taken);
      taken.add(id);
      renamed.set(n.id, id);
      added.push({ ...clone(n), id, position: { x: n.position.x + PASTE_OFFSET, y: n.position.y + PASTE_OFFSET } });
    }
    if (added.length === 0) {
      refuse('a workflow has exactly one trigger');
      return [];
    }
    record();
    const edgeIds = new Set(edges.value.map((e) => e.id));
    const addedEdges: CanvasEdge[] = [];
    for (const e of clipboard.edges) {
      const source = renamed.get(e.source);
      const target = renamed.get(e.target);
      if (!source || !target) continue;
      const id = uniqueId(`e_${source}_${target}`, edgeIds);
      edgeIds.add(id);
      addedEdges.push({ ...e, id, source, target });
    }
    nodes.value = [...nodes.value, ...added];
    edges.value = [...edges.value, ...addedEdges];
    selectedNodeIds.value = added.map((n) => n.id);
    selectedEdgeIds.value = [];
    // The next paste lands further along, not on top of this one.
    clipboard = { nodes: added, edges: addedEdges };
    revalidate();
    return added.map((n) => n.id);
  }

  function duplicate(): string[] {
    const saved = clipboard;
    if (copy() === 0) return [];
    const ids = paste();
    clipboard = saved;
    return ids;
  }

  function autoLayout(): void {
    if (nodes.value.length === 0) return;
    record();
    const positions = layoutGraph(nodes.value, edges.value);
    nodes.value = nodes.value.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position }));
  }

  /** Replaces the canvas with an earlier version; it becomes a new version when saved. */
  function restoreVersion(v: WorkflowVersion): void {
    record();
    const s = positioned(v.graph);
    nodes.value = s.nodes;
    edges.value = s.edges;
    selectedNodeIds.value = [];
    selectedEdgeIds.value = [];
    notice.value = `restored version ${v.version}; save to make it current`;
    revalidate();
  }

  /**
   * Saves what changed: a changed graph makes a new version, a new name alone renames without one, and
   * nothing changed sends nothing.
   */
  async function save(): Promise<void> {
    if (!workflowId.value) throw new Error('no workflow is open');
    const newName = name.value.trim();
    if (!newName) throw new Error('A workflow needs a name.');
    if (!dirty.value) {
      notice.value = 'nothing to save';
      return;
    }
    const sentGraph = graph.value;
    const sentJson = JSON.stringify(sentGraph);
    const body: { name?: string; graph?: CanvasGraph } = {};
    if (nameDirty.value) body.name = newName;
    if (graphDirty.value) body.graph = sentGraph;
    saving.value = true;
    try {
      const view = await apiRequest<WorkflowView>('PUT', `/api/v1/workflows/${encodeURIComponent(workflowId.value)}`, { body });
      version.value = view.version;
      savedName.value = view.name;
      if (name.value.trim() === newName) name.value = view.name;
      if (body.graph) savedJson.value = sentJson;
      notice.value = body.graph ? `saved version ${view.version}` : `renamed to ${view.name}`;
    } finally {
      saving.value = false;
    }
  }

  async function versions(): Promise<WorkflowVersion[]> {
    if (!workflowId.value) return [];
    const res = await apiRequest<{ items: WorkflowVersion[] }>('GET', `/api/v1/workflows/${encodeURIComponent(workflowId.value)}/versions`);
    return res.items;
  }

  return {
    workflowId, name, version, nodes, edges, selectedNodeIds, selectedEdgeIds, validation, notice, saving,
    graph, dirty, canUndo, canRedo, selectedNode, problemsByNode, problemsByEdge, runBlockedReason,
    reset, load, addNode, checkConnection, connect, beginMove, moveNode, updateNodeData, select, removeSelected,
    removeEdges, copy, paste, duplicate, autoLayout, restoreVersion, save, versions, undo, redo,
  };
});
