// onError in the editor and the run view: the agent form sets it, a branch node shows its `error` handle and
// accepts a connection from it, and a node whose failure was handled shows the error as handled.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import { connectionProblem } from '../../canvas/connection-rules';
import CanvasNode from '../canvas/CanvasNode.vue';
import RunNodeDetails from '../run/RunNodeDetails.vue';
import { pendingNode, type NodeView } from '../../../../core/run-view';
import AgentForm from './AgentForm.vue';

const agentData = { provider: 'echo', model: 'echo-1', prompt: 'hi' };
// Vue Flow's Handle needs a flow around it; a stub keeps its id and test id.
const HandleStub = { props: ['id', 'type'], template: '<div class="handle-stub" :data-handle-id="id ?? \'\'" :data-handle-type="type"><slot /></div>' };
const mountNode = (config: Record<string, unknown>, run?: NodeView) =>
  mount(CanvasNode, { props: { id: 'a', data: { nodeType: 'agent', config, problems: [], ...(run ? { run } : {}) } }, global: { stubs: { Handle: HandleStub } } });

describe('onError in the agent form', () => {
  test('defaults to failing the run; choosing branch or continue emits it and explains it; the default removes the key', async () => {
    const wrapper = mount(AgentForm, { props: { modelValue: agentData, variables: [] } });
    expect((wrapper.get('[data-testid="field-onError"]').element as HTMLSelectElement).value).toBe('');
    await wrapper.get('[data-testid="field-onError"]').setValue('branch');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toEqual({ ...agentData, onError: 'branch' });

    const branching = mount(AgentForm, { props: { modelValue: { ...agentData, onError: 'branch' }, variables: [] } });
    expect((branching.get('[data-testid="field-onError"]').element as HTMLSelectElement).value).toBe('branch');
    expect(branching.get('[data-testid="onError-hint"]').text()).toContain('“error” edges');
    await branching.get('[data-testid="field-onError"]').setValue('');
    expect(branching.emitted('update:modelValue')?.at(-1)?.[0]).toEqual(agentData);
  });
});

describe('the error handle on the canvas', () => {
  test('an agent has one out handle; with onError branch it has its normal handle first and "error"', () => {
    const plain = mountNode(agentData).findAll('[data-handle-type="source"]');
    expect(plain.map((h) => h.attributes('data-testid'))).toEqual(['handle-out-a']);
    const branching = mountNode({ ...agentData, onError: 'branch' }).findAll('[data-handle-type="source"]');
    expect(branching.map((h) => h.attributes('data-testid'))).toEqual(['handle-out-a', 'handle-out-a-error']);
    expect(branching.map((h) => h.attributes('data-handle-id'))).toEqual(['', 'error']);
    expect(branching[1]!.text()).toBe('error');
  });

  test('a connection may leave "error" only from a branch node', () => {
    const nodes = [
      { id: 'a', type: 'agent', data: { ...agentData, onError: 'branch' } },
      { id: 'b', type: 'agent', data: agentData },
      { id: 'fix', type: 'agent', data: agentData },
    ];
    expect(connectionProblem(nodes, [], { source: 'a', target: 'fix', sourceHandle: 'error' })).toBeNull();
    expect(connectionProblem(nodes, [], { source: 'a', target: 'fix', sourceHandle: null })).toBeNull();
    expect(connectionProblem(nodes, [], { source: 'b', target: 'fix', sourceHandle: 'error' })).toBe('a agent has no out handle error');
  });
});

describe('a handled failure in the run view', () => {
  const handled: NodeView = { ...pendingNode(), status: 'succeeded', attempts: 1, handle: 'error', error: { code: 'PROVIDER_ERROR', message: 'bad request' } };

  test('the node on the canvas says it succeeded with its error handled', () => {
    expect(mountNode({ ...agentData, onError: 'branch' }, handled).get('[data-testid="node-status-a"]').text()).toBe('succeeded · error handled');
    expect(mountNode(agentData, { ...handled, error: null }).find('[data-testid="node-handled-a"]').exists()).toBe(false);
  });

  test('its details show the error as handled; a failed node shows a plain error', () => {
    const mountDetails = (live: NodeView) => mount(RunNodeDetails, { props: { nodeId: 'a', details: undefined, live }, global: { stubs: { RouterLink: true } } });
    const details = mountDetails(handled);
    expect(details.get('[data-testid="run-node-handled"]').text()).toContain('handled by onError');
    expect(details.get('[data-testid="run-node-error"]').text()).toContain('bad request');
    const failed = mountDetails({ ...handled, status: 'failed', handle: null });
    expect(failed.find('[data-testid="run-node-handled"]').exists()).toBe(false);
    expect(failed.get('[data-testid="run-node-error"]').text()).toContain('bad request');
  });
});
