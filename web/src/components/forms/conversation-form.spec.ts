// The conversation node's form: participants added, edited and removed (two at least), the topic, turns,
// speaker selection and terminateOn, with the schema's complaints as the user types.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import { defaultNodeData, nodeTypeInfo } from '../../canvas/node-catalog';
import { conversationDataSchema } from '../../../../core/graph';
import ConversationForm from './ConversationForm.vue';

const data = () => defaultNodeData('conversation');
type Emitted = { participants: Record<string, unknown>[]; [key: string]: unknown };
const last = (wrapper: ReturnType<typeof mount>) => wrapper.emitted('update:modelValue')?.at(-1)?.[0] as Emitted;

describe('the conversation form', () => {
  test('the palette offers the node, and a fresh one passes its schema', () => {
    expect(nodeTypeInfo('conversation')).toMatchObject({ label: 'Conversation', hasInput: true });
    expect(conversationDataSchema.safeParse(data()).success).toBe(true);
  });

  test('adds a participant, edits its provider, model, system and credential, removes one', async () => {
    const credentials = [{ id: 'c1', provider: 'anthropic', name: 'Claude key' }, { id: 'c2', provider: 'openai', name: 'GPT key' }];
    const wrapper = mount(ConversationForm, { props: { modelValue: data(), variables: ['inputs.topic'], credentials } });
    expect(wrapper.findAll('[data-testid="participant"]')).toHaveLength(2);
    // Two is the least: they cannot be removed below it.
    expect(wrapper.get('[data-testid="participant-remove-0"]').attributes('disabled')).toBeDefined();
    await wrapper.get('[data-testid="participant-add"]').trigger('click');
    expect(last(wrapper).participants).toHaveLength(3);
    expect(last(wrapper).participants[2]).toEqual({ name: 'participant3', provider: 'echo', model: 'echo-1' });

    await wrapper.setProps({ modelValue: last(wrapper) });
    await wrapper.get('[data-testid="participant-provider-2"]').setValue('anthropic');
    await wrapper.setProps({ modelValue: last(wrapper) });
    expect(wrapper.get('[data-testid="participant-credential-2"]').findAll('option').map((o) => o.text())).toEqual(["(the provider's default key)", 'Claude key']);
    await wrapper.get('[data-testid="participant-credential-2"]').setValue('c1');
    await wrapper.setProps({ modelValue: last(wrapper) });
    await wrapper.get('[data-testid="participant-model-2"]').setValue('claude-x');
    await wrapper.setProps({ modelValue: last(wrapper) });
    await wrapper.get('[data-testid="participant-system-2"]').setValue('You judge.');
    expect(last(wrapper).participants[2]).toEqual({ name: 'participant3', provider: 'anthropic', model: 'claude-x', credentialId: 'c1', system: 'You judge.' });

    await wrapper.setProps({ modelValue: last(wrapper) });
    await wrapper.get('[data-testid="participant-remove-0"]').trigger('click');
    expect(last(wrapper).participants.map((p) => p.name)).toEqual(['critic', 'participant3']);
  });

  test('sets the topic, max turns, speaker selection and terminateOn, and reports what the schema refuses', async () => {
    const wrapper = mount(ConversationForm, { props: { modelValue: data(), variables: [] } });
    await wrapper.get('[data-testid="field-speakerSelection"]').setValue('auto');
    expect(last(wrapper).speakerSelection).toBe('auto');
    await wrapper.get('[data-testid="field-terminateOn"]').setValue('TERMINATE');
    expect(last(wrapper).terminateOn).toBe('TERMINATE');
    await wrapper.get('[data-testid="field-topic"]').setValue('Plan {{inputs.topic}}');
    expect(last(wrapper).topic).toBe('Plan {{inputs.topic}}');

    const bad = mount(ConversationForm, { props: { modelValue: { ...data(), maxRounds: 99, participants: [{ name: 'solo', provider: 'echo', model: 'e' }] }, variables: [] } });
    expect(bad.find('[data-testid="issue-maxRounds"]').exists()).toBe(true);
    expect(bad.get('[data-testid="issue-participants"]').text()).toContain('at least two participants');
  });
});
