// The editor store: adding and connecting nodes with the canvas rules, undo/redo, clipboard, layout, dirty state.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { useEditorStore } from './editor';

/** The PUTs the store sends; the answer is the workflow as the API would return it. */
const api = vi.hoisted(() => ({ sent: [] as { method: string; path: string; body: Record<string, unknown> }[], version: 1 }));
vi.mock('../api/client', () => ({
  apiRequest: (method: string, path: string, opts: { body: Record<string, unknown> }) => {
    api.sent.push({ method, path, body: opts.body });
    if (opts.body['graph']) api.version += 1;
    const name = typeof opts.body['name'] === 'string' ? opts.body['name'] : 'Flow';
    return Promise.resolve({ id: 'wf', name, version: api.version });
  },
}));

function drawChain() {
  const editor = useEditorStore();
  editor.reset({ id: 'wf', name: 'Flow', version: 1, graph: { nodes: [], edges: [] } });
  editor.addNode('trigger', { x: 0, y: 0 });
  editor.addNode('agent', { x: 250, y: 0 });
  editor.addNode('approval', { x: 500, y: 0 });
  editor.addNode('output', { x: 750, y: 0 });
  expect(editor.connect({ source: 'trigger_1', target: 'agent_1' })).toBeNull();
  expect(editor.connect({ source: 'agent_1', target: 'approval_1' })).toBeNull();
  expect(editor.connect({ source: 'approval_1', target: 'output_1', sourceHandle: 'approved' })).toBeNull();
  return editor;
}

describe('useEditorStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    api.sent = [];
    api.version = 1;
  });

  test('a drawn chain trigger → agent → approval → output validates clean', () => {
    const editor = drawChain();
    expect(editor.validation.errors).toEqual([]);
    expect(editor.dirty).toBe(true);
  });

  test('an empty canvas reports the missing trigger and output on the problem list', () => {
    const editor = useEditorStore();
    editor.reset({ id: 'wf', name: 'Flow', version: 1, graph: { nodes: [], edges: [] } });
    expect(editor.validation.errors.map((p) => p.code).sort()).toEqual(['NO_OUTPUT', 'TRIGGER_COUNT']);
  });

  test('problems are pinned to the node they concern', () => {
    const editor = useEditorStore();
    editor.reset({ id: 'wf', name: 'Flow', version: 1, graph: { nodes: [], edges: [] } });
    editor.addNode('trigger', { x: 0, y: 0 });
    editor.addNode('output', { x: 300, y: 0 });
    expect(editor.problemsByNode.get('output_1')?.join()).toContain('cannot be reached');
    editor.updateNodeData('output_1', { value: '{{#if}}' });
    expect(editor.problemsByNode.get('output_1')?.join()).toContain('not a valid template');
  });

  test('cycles, a second trigger, edges into a trigger and wrong handles are refused', () => {
    const editor = drawChain();
    expect(editor.connect({ source: 'output_1', target: 'agent_1' })).toMatch(/cycle/);
    expect(editor.connect({ source: 'agent_1', target: 'trigger_1' })).toMatch(/no input/);
    expect(editor.connect({ source: 'approval_1', target: 'output_1' })).toMatch(/no out handle/);
    expect(editor.connect({ source: 'agent_1', target: 'output_1', sourceHandle: 'true' })).toMatch(/no out handle/);
    expect(editor.connect({ source: 'agent_1', target: 'agent_1' })).toMatch(/itself/);
    expect(editor.addNode('trigger', { x: 0, y: 300 }).problem).toMatch(/exactly one trigger/);
    expect(editor.edges).toHaveLength(3);
    expect(editor.nodes).toHaveLength(4);
  });

  test('undo and redo walk the command history; a new command clears redo', () => {
    const editor = drawChain();
    editor.undo();
    expect(editor.edges).toHaveLength(2);
    editor.undo();
    expect(editor.edges).toHaveLength(1);
    editor.redo();
    expect(editor.edges).toHaveLength(2);
    editor.addNode('transform', { x: 0, y: 200 });
    expect(editor.canRedo).toBe(false);
    editor.undo();
    expect(editor.nodes.map((n) => n.id)).not.toContain('transform_1');
  });

  test('typing in a form field is one undo step, not one per keystroke', () => {
    const editor = drawChain();
    for (const prompt of ['a', 'ab', 'abc']) editor.updateNodeData('agent_1', { provider: 'echo', model: 'echo-1', prompt });
    editor.undo();
    expect(editor.nodes.find((n) => n.id === 'agent_1')?.data['prompt']).toBe('{{inputs.topic}}');
  });

  test('a whole drag is one undo step', () => {
    const editor = drawChain();
    editor.beginMove();
    editor.moveNode('agent_1', { x: 260, y: 10 });
    editor.moveNode('agent_1', { x: 300, y: 40 });
    editor.undo();
    expect(editor.nodes.find((n) => n.id === 'agent_1')?.position).toEqual({ x: 250, y: 0 });
  });

  test('copy/paste and duplicate give fresh ids, keep inner edges and never a second trigger', () => {
    const editor = drawChain();
    editor.select(['agent_1', 'approval_1']);
    editor.copy();
    expect(editor.paste()).toEqual(['agent_2', 'approval_2']);
    expect(editor.edges.some((e) => e.source === 'agent_2' && e.target === 'approval_2')).toBe(true);
    expect(editor.nodes.find((n) => n.id === 'agent_2')?.position).toEqual({ x: 290, y: 40 });
    editor.select(['trigger_1']);
    expect(editor.duplicate()).toEqual([]);
    expect(editor.nodes.filter((n) => n.type === 'trigger')).toHaveLength(1);
  });

  test('deleting a node removes its edges', () => {
    const editor = drawChain();
    editor.select(['approval_1']);
    editor.removeSelected();
    expect(editor.nodes.map((n) => n.id)).toEqual(['trigger_1', 'agent_1', 'output_1']);
    expect(editor.edges.map((e) => [e.source, e.target])).toEqual([['trigger_1', 'agent_1']]);
  });

  test('auto-layout places the chain left to right', () => {
    const editor = drawChain();
    editor.moveNode('output_1', { x: -500, y: 900 });
    editor.autoLayout();
    const xs = ['trigger_1', 'agent_1', 'approval_1', 'output_1'].map((id) => editor.nodes.find((n) => n.id === id)?.position.x ?? NaN);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
  });

  test('restoring a version replaces the canvas as an unsaved, undoable change', () => {
    const editor = drawChain();
    editor.restoreVersion({ version: 1, createdAt: '', createdBy: null, graph: { nodes: [{ id: 'only', type: 'trigger', data: {} }], edges: [] } });
    expect(editor.nodes.map((n) => n.id)).toEqual(['only']);
    editor.undo();
    expect(editor.nodes).toHaveLength(4);
  });

  test('a new name is an unsaved change; saving it renames without a new version, a graph change makes one', async () => {
    const editor = useEditorStore();
    editor.reset({ id: 'wf', name: 'Flow', version: 1, graph: { nodes: [], edges: [] } });
    expect(editor.dirty).toBe(false);
    editor.name = '  Flow, renamed ';
    expect(editor.dirty).toBe(true);
    await editor.save();
    expect(api.sent).toEqual([{ method: 'PUT', path: '/api/v1/workflows/wf', body: { name: 'Flow, renamed' } }]);
    expect(editor.name).toBe('Flow, renamed');
    expect(editor.version).toBe(1);
    expect(editor.dirty).toBe(false);

    editor.addNode('trigger', { x: 0, y: 0 });
    await editor.save();
    expect(api.sent[1]?.body).toEqual({ graph: editor.graph });
    expect(editor.version).toBe(2);
    expect(editor.notice).toBe('saved version 2');
    expect(editor.dirty).toBe(false);

    await editor.save();
    expect(api.sent).toHaveLength(2);
    expect(editor.notice).toBe('nothing to save');
  });

  test('an empty name is refused before anything is sent, and stays an unsaved change', async () => {
    const editor = useEditorStore();
    editor.reset({ id: 'wf', name: 'Flow', version: 1, graph: { nodes: [], edges: [] } });
    editor.name = '   ';
    await expect(editor.save()).rejects.toThrow('A workflow needs a name.');
    expect(api.sent).toEqual([]);
    expect(editor.dirty).toBe(true);
  });
});
