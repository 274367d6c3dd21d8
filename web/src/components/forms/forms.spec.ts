// The node forms: they show the node's data, emit edited data, and report schema problems as the user types.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import AgentForm from './AgentForm.vue';
import ApprovalForm from './ApprovalForm.vue';
import TransformForm from './TransformForm.vue';
import TriggerForm from './TriggerForm.vue';

describe('node forms', () => {
  test('the agent form emits the edited prompt and drops emptied optional numbers', async () => {
    const wrapper = mount(AgentForm, {
      props: { modelValue: { provider: 'echo', model: 'echo-1', prompt: 'hi', temperature: 0.5 }, variables: ['inputs.topic'] },
    });
    await wrapper.get('[data-testid="field-prompt"]').setValue('Write about {{inputs.topic}}');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toEqual({ provider: 'echo', model: 'echo-1', prompt: 'Write about {{inputs.topic}}', temperature: 0.5 });
    await wrapper.get('[data-testid="field-temperature"]').setValue('');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).not.toHaveProperty('temperature');
    await wrapper.get('[data-testid="field-retry-maximumAttempts"]').setValue('3');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toMatchObject({ retry: { maximumAttempts: 3 } });
    expect(wrapper.text()).toContain('{{inputs.topic}}');
  });

  test('the agent form reports an empty prompt and an out-of-range temperature', () => {
    const wrapper = mount(AgentForm, { props: { modelValue: { provider: 'echo', model: 'echo-1', prompt: '', temperature: 7 }, variables: [] } });
    expect(wrapper.find('[data-testid="issue-prompt"]').exists()).toBe(true);
    expect(wrapper.find('[data-testid="issue-temperature"]').exists()).toBe(true);
    expect(wrapper.find('[data-testid="issue-model"]').exists()).toBe(false);
  });

  test('the agent form offers the provider’s credentials in one field, a compatible server beside its name', () => {
    const credentials = [
      { id: 'c1', provider: 'openai', name: 'Gateway', baseUrl: 'http://127.0.0.1:9/v1' },
      { id: 'c2', provider: 'anthropic', name: 'Claude' },
    ];
    const wrapper = mount(AgentForm, { props: { modelValue: { provider: 'openai', model: 'm', prompt: 'x' }, variables: [], credentials } });
    expect(wrapper.findAll('[data-testid="field-credentialId"]')).toHaveLength(1);
    expect(wrapper.findAll('option').map((o) => o.text())).toContain('Gateway (http://127.0.0.1:9/v1)');
    expect(wrapper.findAll('option').map((o) => o.text())).not.toContain('Claude');
    expect(wrapper.find('[data-testid="agent-no-credentials"]').exists()).toBe(false);
  });

  test('a read-only form cannot be edited', () => {
    const wrapper = mount(AgentForm, { props: { modelValue: { provider: 'echo', model: 'echo-1', prompt: 'x' }, variables: [], readonly: true } });
    expect(wrapper.get('fieldset').attributes('disabled')).toBeDefined();
  });

  test('the trigger form adds a declared input', async () => {
    const wrapper = mount(TriggerForm, { props: { modelValue: { inputs: {} } } });
    await wrapper.get('[data-testid="trigger-new-input"]').setValue('topic');
    await wrapper.get('[data-testid="trigger-add-input"]').trigger('submit');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toEqual({ inputs: { topic: { type: 'string', required: true } } });
  });

  test('the approval form reports a missing title and sets the timeout behaviour', async () => {
    const wrapper = mount(ApprovalForm, { props: { modelValue: { title: '' } } });
    expect(wrapper.find('[data-testid="issue-title"]').exists()).toBe(true);
    await wrapper.get('[data-testid="field-onTimeout"]').setValue('reject');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toEqual({ title: '', onTimeout: 'reject' });
  });

  test('the transform form switches between template and expression, keeping the text', async () => {
    const wrapper = mount(TransformForm, { props: { modelValue: { template: '$count(nodes)' }, variables: [] } });
    await wrapper.get('[data-testid="field-mode-expression"]').trigger('change');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toEqual({ expression: '$count(nodes)' });
  });
});
