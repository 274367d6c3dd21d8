// A finished run offers a retry from the node looked at (or from the failed node) and a new run with its inputs;
// a retry links back to the run it retries, and its kept nodes say they were reused.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import RunNodeDetails from './RunNodeDetails.vue';
import RunRetryActions from './RunRetryActions.vue';

const base = { workflowId: 'w1', retryOf: null, finished: true, failed: true, canEdit: true, nodeId: null, nodeStatus: undefined };
const mountActions = (props: Record<string, unknown> = {}) => mount(RunRetryActions, { props: { ...base, ...props }, global: { stubs: { RouterLink: { template: '<a><slot /></a>' } } } });

describe('RunRetryActions', () => {
  test('a failed run offers a retry from the failed node and a run with the same inputs', async () => {
    const wrapper = mountActions();
    await wrapper.find('[data-testid="retry-from-failed"]').trigger('click');
    await wrapper.find('[data-testid="run-again"]').trigger('click');
    expect(wrapper.emitted('retry')).toEqual([[null]]);
    expect(wrapper.emitted('runAgain')).toEqual([[]]);
  });

  test('with a node picked it retries from that node, in a run that failed or not', async () => {
    const wrapper = mountActions({ failed: false, nodeId: 'agent2', nodeStatus: 'succeeded' });
    expect(wrapper.find('[data-testid="retry-from-failed"]').exists()).toBe(false);
    await wrapper.find('[data-testid="retry-from-node"]').trigger('click');
    expect(wrapper.emitted('retry')).toEqual([['agent2']]);
    expect(mountActions({ nodeId: 'agent3', nodeStatus: 'failed' }).find('[data-testid="retry-from-node"]').text()).toBe('Retry from here (failed)');
  });

  test('nothing to offer while the run goes on, or to a viewer; a retry links to the run it retries', () => {
    expect(mountActions({ finished: false, nodeId: 'a' }).find('button').exists()).toBe(false);
    expect(mountActions({ canEdit: false }).find('button').exists()).toBe(false);
    const retry = mountActions({ retryOf: '0123456789abcdef', canEdit: false });
    expect(retry.find('[data-testid="retry-of-link"]').text()).toBe('01234567');
  });

  test("a kept node's details say it was reused, not run again", () => {
    const details = mount(RunNodeDetails, {
      props: { nodeId: 'agent1', details: undefined, live: { status: 'succeeded', attempts: 0, reusedFrom: 'abcdef0123', rounds: [] } as never },
      global: { stubs: { RouterLink: true } },
    });
    expect(details.find('[data-testid="run-node-reused"]').text()).toContain('kept from run abcdef01');
    const ran = mount(RunNodeDetails, { props: { nodeId: 'agent3', details: undefined, live: { status: 'succeeded', attempts: 1, rounds: [] } as never }, global: { stubs: { RouterLink: true } } });
    expect(ran.find('[data-testid="run-node-reused"]').exists()).toBe(false);
  });
});
