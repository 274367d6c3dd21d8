// The templates gallery: starter canvases a new user can open, read and run at once. Every agent uses the
// `echo` provider (it answers with its prompt), so a template runs offline in one click; switching an agent to
// a real provider and credential is the only change a real run needs. Built only from the node types that
// exist today; core/workflow-templates.test.ts validates each one with the canvas validator.
import type { CanvasGraph } from './graph';

export interface WorkflowTemplate {
  /** Stable id, used in URLs and test ids. */
  id: string;
  name: string;
  /** One line for the gallery card. */
  summary: string;
  /** What the template shows and how to make it real, a few sentences for its detail view. */
  description: string;
  /** Node types it uses, for the gallery's tags. */
  tags: string[];
  /** A fresh copy on every call, so the caller may edit it freely. */
  graph(): CanvasGraph;
}

const ECHO = { provider: 'echo', model: 'echo-1' } as const;
const STEP = 260;

/** A left-to-right row of nodes, `y` pixels down. */
function at(column: number, y = 0): { x: number; y: number } {
  return { x: column * STEP, y };
}

function researchWriteReview(): CanvasGraph {
  return {
    nodes: [
      {
        id: 'start',
        type: 'trigger',
        position: at(0),
        data: {
          inputs: {
            topic: { type: 'string', required: true, default: 'how durable execution keeps AI agents reliable', description: 'What the article is about' },
            audience: { type: 'string', default: 'engineering managers', description: 'Who reads it' },
          },
        },
      },
      {
        id: 'research',
        type: 'agent',
        position: at(1),
        data: { ...ECHO, system: 'You are a careful researcher. List facts with their sources.', prompt: 'Research {{inputs.topic}} for {{inputs.audience}}: five key facts, each with a source.' },
      },
      {
        id: 'write',
        type: 'agent',
        position: at(2),
        data: { ...ECHO, system: 'You are a clear, concise writer.', prompt: 'Write a 300-word article for {{inputs.audience}} from these notes:\n\n{{nodes.research.text}}' },
      },
      {
        id: 'review',
        type: 'agent',
        position: at(3),
        data: { ...ECHO, system: 'You are an exacting editor.', prompt: 'Review this draft for accuracy and tone; list what to change.\n\n{{nodes.write.text}}' },
      },
      {
        id: 'approve',
        type: 'approval',
        position: at(4),
        data: { title: 'Publish the article on {{inputs.topic}}?', instructions: 'Draft:\n{{nodes.write.text}}\n\nEditor notes:\n{{nodes.review.text}}', timeoutSeconds: 86_400, onTimeout: 'reject' },
      },
      { id: 'published', type: 'output', position: at(5, -80), data: { value: '{{nodes.write.text}}' } },
      { id: 'rejected', type: 'output', position: at(5, 80), data: { value: 'Not published. Editor notes: {{nodes.review.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'research' },
      { id: 'e2', source: 'research', target: 'write' },
      { id: 'e3', source: 'write', target: 'review' },
      { id: 'e4', source: 'review', target: 'approve' },
      { id: 'e5', source: 'approve', sourceHandle: 'approved', target: 'published' },
      { id: 'e6', source: 'approve', sourceHandle: 'rejected', target: 'rejected' },
    ],
  };
}

function supportTriage(): CanvasGraph {
  return {
    nodes: [
      {
        id: 'ticket',
        type: 'trigger',
        position: at(0),
        data: {
          inputs: {
            message: { type: 'string', required: true, default: 'I was charged twice this month, please refund one payment.', description: 'The customer’s message' },
            customer: { type: 'string', default: 'Ada', description: 'The customer’s name' },
          },
        },
      },
      {
        id: 'classify',
        type: 'agent',
        position: at(1),
        data: { ...ECHO, system: 'Classify support tickets. Answer with one word: billing, bug or question.', prompt: 'Ticket from {{inputs.customer}}: {{inputs.message}}' },
      },
      {
        id: 'is_billing',
        type: 'condition',
        position: at(2),
        // The classifier's answer decides; the ticket's own words stand in while the agent only echoes.
        data: { expression: '$contains($lowercase(nodes.classify.text), "billing") or $contains($lowercase(inputs.message), "refund") or $contains($lowercase(inputs.message), "charged")' },
      },
      {
        id: 'billing_reply',
        type: 'agent',
        position: at(3, -80),
        data: { ...ECHO, system: 'You are a billing specialist. Be precise and kind.', prompt: 'Draft a reply to {{inputs.customer}} about this billing issue: {{inputs.message}}' },
      },
      {
        id: 'general_reply',
        type: 'agent',
        position: at(3, 80),
        data: { ...ECHO, system: 'You are a friendly support agent.', prompt: 'Answer {{inputs.customer}}: {{inputs.message}}' },
      },
      { id: 'billing_out', type: 'output', position: at(4, -80), data: { value: 'Routed to billing.\n\n{{nodes.billing_reply.text}}' } },
      { id: 'general_out', type: 'output', position: at(4, 80), data: { value: 'Answered by support.\n\n{{nodes.general_reply.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'ticket', target: 'classify' },
      { id: 'e2', source: 'classify', target: 'is_billing' },
      { id: 'e3', source: 'is_billing', sourceHandle: 'true', target: 'billing_reply' },
      { id: 'e4', source: 'is_billing', sourceHandle: 'false', target: 'general_reply' },
      { id: 'e5', source: 'billing_reply', target: 'billing_out' },
      { id: 'e6', source: 'general_reply', target: 'general_out' },
    ],
  };
}

/** SystemCrafter's stages, each an agent that reads the stages before it. */
const CRAFTER_STAGES: { id: string; role: string; task: string; reads: string[] }[] = [
  { id: 'requirements', role: 'a product analyst', task: 'Write the functional and non-functional requirements for: {{inputs.idea}}', reads: [] },
  { id: 'architecture', role: 'a software architect', task: 'Design the system architecture (components, data flow, deployment).', reads: ['requirements'] },
  { id: 'api', role: 'an API designer', task: 'Specify the REST API: resources, endpoints, request and response bodies, errors.', reads: ['requirements', 'architecture'] },
  { id: 'database', role: 'a database engineer', task: 'Design the database schema: tables, keys, indexes, migrations.', reads: ['architecture', 'api'] },
  { id: 'backend', role: 'a backend engineer', task: 'Plan the backend implementation: modules, services, tests.', reads: ['api', 'database'] },
  { id: 'frontend', role: 'a frontend engineer', task: 'Plan the frontend: pages, components, state, API calls.', reads: ['requirements', 'api'] },
  { id: 'qa', role: 'a QA lead', task: 'Write the test plan covering every requirement, and list the risks.', reads: ['requirements', 'backend', 'frontend'] },
];

function systemCrafter(): CanvasGraph {
  const nodes: CanvasGraph['nodes'] = [
    {
      id: 'brief',
      type: 'trigger',
      position: at(0),
      data: { inputs: { idea: { type: 'string', required: true, default: 'a booking system for a small climbing gym', description: 'The system to build' } } },
    },
  ];
  const edges: CanvasGraph['edges'] = [];
  let previous = 'brief';
  CRAFTER_STAGES.forEach((stage, i) => {
    const context = stage.reads.map((r) => `## ${r}\n{{nodes.${r}.text}}`).join('\n\n');
    nodes.push({
      id: stage.id,
      type: 'agent',
      position: at(i + 1, i % 2 === 0 ? 0 : 60),
      data: { ...ECHO, system: `You are ${stage.role} at SystemCrafter.`, prompt: context ? `${stage.task}\n\n${context}` : stage.task },
    });
    edges.push({ id: `e${i + 1}`, source: previous, target: stage.id });
    previous = stage.id;
  });
  nodes.push({
    id: 'dossier',
    type: 'transform',
    position: at(CRAFTER_STAGES.length + 1),
    data: { template: CRAFTER_STAGES.map((s) => `# ${s.id}\n{{nodes.${s.id}.text}}`).join('\n\n') },
  });
  nodes.push({ id: 'deliverable', type: 'output', position: at(CRAFTER_STAGES.length + 2), data: { value: '{{nodes.dossier}}' } });
  edges.push({ id: 'e_dossier', source: previous, target: 'dossier' });
  edges.push({ id: 'e_out', source: 'dossier', target: 'deliverable' });
  return { nodes, edges };
}

export const WORKFLOW_TEMPLATES: readonly WorkflowTemplate[] = [
  {
    id: 'research-write-review',
    name: 'Research, write, review, approve',
    summary: 'Three agents research a topic, write an article and review it; a person approves before it is published.',
    description:
      'The trigger takes a topic and an audience. A researcher agent gathers facts, a writer turns them into an article, ' +
      'an editor agent reviews it, and an approval waits in the Inbox: approved ends at “published”, rejected at “rejected”. ' +
      'The agents use the offline echo provider; pick OpenAI or Anthropic and a credential on each agent for real text.',
    tags: ['trigger', 'agent', 'approval', 'output'],
    graph: researchWriteReview,
  },
  {
    id: 'support-triage',
    name: 'Support triage',
    summary: 'An agent classifies a ticket; a condition sends billing issues to a specialist and the rest to support.',
    description:
      'The trigger takes the customer’s message. A classifier agent labels it, a condition checks for a billing issue and ' +
      'routes the ticket to the billing or the general reply agent; the branch not taken is skipped. ' +
      'With echo the condition reads the ticket’s words; with a real model it reads the classifier’s label.',
    tags: ['trigger', 'agent', 'condition', 'output'],
    graph: supportTriage,
  },
  {
    id: 'system-crafter',
    name: 'SystemCrafter pipeline',
    summary: 'Requirements → architecture → API → database → backend → frontend → QA, each stage an agent reading the ones before.',
    description:
      'The trigger takes an idea for a system. Seven agents, one per stage, each read the earlier stages they depend on; ' +
      'a transform assembles their work into one dossier, which is the output. ' +
      'A recovery agent on the error branch will come with the error-branch node type.',
    tags: ['trigger', 'agent', 'transform', 'output'],
    graph: systemCrafter,
  },
];

export function findWorkflowTemplate(id: string): WorkflowTemplate | undefined {
  return WORKFLOW_TEMPLATES.find((t) => t.id === id);
}
