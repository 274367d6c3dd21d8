// The canvas of DESIGN.md §2 (trigger → agent → condition → approval → output), as a starter canvas for
// a new workflow and as the reference fixture of tests across the project.
import type { CanvasGraph } from './graph';

/** A fresh copy on every call, so a caller may edit it freely. */
export function designExampleGraph(): CanvasGraph {
  return {
    nodes: [
      {
        id: 'start',
        type: 'trigger',
        position: { x: 0, y: 0 },
        data: { inputs: { topic: { type: 'string', required: true } } },
      },
      {
        id: 'draft',
        type: 'agent',
        position: { x: 250, y: 0 },
        data: {
          provider: 'echo',
          model: 'echo-1',
          system: 'You are a writer.',
          prompt: 'Write about {{inputs.topic}}',
          retry: { maximumAttempts: 3 },
        },
      },
      {
        id: 'check',
        type: 'condition',
        position: { x: 500, y: 0 },
        data: { expression: '$length(nodes.draft.text) > 10' },
      },
      {
        id: 'review',
        type: 'approval',
        position: { x: 750, y: 0 },
        data: { title: 'Publish?', timeoutSeconds: 86400, onTimeout: 'reject' },
      },
      {
        id: 'done',
        type: 'output',
        position: { x: 1000, y: 0 },
        data: { value: '{{nodes.draft.text}}' },
      },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'draft' },
      { id: 'e2', source: 'draft', target: 'check' },
      { id: 'e3', source: 'check', sourceHandle: 'true', target: 'review' },
      { id: 'e4', source: 'review', sourceHandle: 'approved', target: 'done' },
    ],
  };
}
