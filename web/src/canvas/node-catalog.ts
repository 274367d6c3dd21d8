// What the palette offers: each node type's label, colour, handles and the data a fresh node starts with.
// The starting data passes the type's schema where it can, so a dropped node is not red before it is touched.
import { NODE_OUT_HANDLES, type NodeType } from '../../../core/graph';

export interface NodeTypeInfo {
  type: NodeType;
  label: string;
  description: string;
  hasInput: boolean;
  /** Named out handles; empty means one unnamed handle. */
  outHandles: readonly string[];
}

export const NODE_CATALOG: readonly NodeTypeInfo[] = [
  { type: 'trigger', label: 'Trigger', description: 'Starts a run; declares its inputs', hasInput: false, outHandles: [] },
  { type: 'agent', label: 'Agent', description: 'One LLM turn', hasInput: true, outHandles: [] },
  { type: 'conversation', label: 'Conversation', description: 'Agents talk in turns (group chat)', hasInput: true, outHandles: [] },
  { type: 'transform', label: 'Transform', description: 'Template or JSONata value', hasInput: true, outHandles: [] },
  { type: 'condition', label: 'Condition', description: 'Branches on a JSONata expression', hasInput: true, outHandles: NODE_OUT_HANDLES.condition ?? [] },
  { type: 'approval', label: 'Approval', description: 'Waits for a human decision', hasInput: true, outHandles: NODE_OUT_HANDLES.approval ?? [] },
  { type: 'output', label: 'Output', description: 'A value of the run result', hasInput: true, outHandles: [] },
  { type: 'subflow', label: 'Subflow', description: 'Runs another saved workflow as a child run', hasInput: true, outHandles: [] },
  { type: 'map', label: 'Map', description: 'Runs a workflow once per item of a list', hasInput: true, outHandles: [] },
];

export function nodeTypeInfo(type: string): NodeTypeInfo | undefined {
  return NODE_CATALOG.find((info) => info.type === type);
}

export function defaultNodeData(type: NodeType): Record<string, unknown> {
  switch (type) {
    case 'trigger':
      return { inputs: {} };
    case 'agent':
      return { provider: 'echo', model: 'echo-1', prompt: '{{inputs.topic}}' };
    case 'transform':
      return { template: '' };
    case 'condition':
      return { expression: 'true' };
    case 'approval':
      return { title: 'Approve?' };
    case 'output':
      return { value: '' };
    case 'subflow':
      return { workflowId: '', inputs: {} };
    case 'map':
      return { items: '[]', workflowId: '', itemInput: 'item', concurrency: 5, onItemFailure: 'fail' };
    case 'conversation':
      return {
        participants: [
          { name: 'writer', provider: 'echo', model: 'echo-1', system: 'You write the first draft.' },
          { name: 'critic', provider: 'echo', model: 'echo-1', system: 'You point out what to improve.' },
        ],
        topic: '{{inputs.topic}}',
        maxRounds: 4,
        speakerSelection: 'round_robin',
      };
  }
}

/** The drag-and-drop payload type of a palette item. */
export const PALETTE_MIME = 'application/x-tessera-node';
