// The node details of a running agent show the text it streams, until its stored output takes over.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import RunNodeDetails from './RunNodeDetails.vue';

const running = { status: 'running', attempts: 1 } as never;
const mountDetails = (props: Record<string, unknown>) =>
  mount(RunNodeDetails, { props: { nodeId: 'a', details: undefined, live: running, ...props }, global: { stubs: { RouterLink: true } } });

describe('RunNodeDetails streaming', () => {
  test('shows the streamed text of a running agent', () => {
    const wrapper = mountDetails({ streaming: 'Once upon a ti' });
    expect(wrapper.find('[data-testid="run-node-streaming"]').text()).toBe('Once upon a ti');
  });

  test('the stored output replaces it; no stream, no section', () => {
    const done = mountDetails({ streaming: 'Once upon a ti', details: { nodeId: 'a', status: 'succeeded', output: { text: 'Once upon a time.' } } });
    expect(done.find('[data-testid="run-node-streaming"]').exists()).toBe(false);
    expect(done.find('[data-testid="run-node-output"]').text()).toContain('Once upon a time.');
    expect(mountDetails({}).find('[data-testid="run-node-streaming"]').exists()).toBe(false);
  });
});
