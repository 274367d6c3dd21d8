// Canvases the benches run.

/** trigger → `length` echo agents in a chain → output. */
export function echoChainGraph(length: number) {
  const nodes: Record<string, unknown>[] = [{ id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } }];
  const edges: Record<string, unknown>[] = [];
  let previous = 'start';
  for (let i = 1; i <= length; i++) {
    const id = `a${i}`;
    nodes.push({ id, type: 'agent', position: { x: 200 * i, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: `step ${i}` } });
    edges.push({ id: `e${i}`, source: previous, target: id });
    previous = id;
  }
  nodes.push({ id: 'done', type: 'output', position: { x: 200 * (length + 1), y: 0 }, data: { value: `{{nodes.${previous}.text}}` } });
  edges.push({ id: 'e-out', source: previous, target: 'done' });
  return { nodes, edges };
}

/** The README canvas: trigger → one echo agent → output. */
export function readmeGraph() {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      { id: 'draft', type: 'agent', position: { x: 250, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'Write about {{inputs.topic}}' } },
      { id: 'done', type: 'output', position: { x: 500, y: 0 }, data: { value: '{{nodes.draft.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'draft' },
      { id: 'e2', source: 'draft', target: 'done' },
    ],
  };
}

/** trigger → approval (no timeout) → output: a run that waits on a human until someone decides. */
export function approvalWaitGraph() {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
      { id: 'review', type: 'approval', position: { x: 250, y: 0 }, data: { title: 'Review' } },
      { id: 'done', type: 'output', position: { x: 500, y: 0 }, data: { value: '{{nodes.review.decision}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'review' },
      { id: 'e2', source: 'review', sourceHandle: 'approved', target: 'done' },
    ],
  };
}
