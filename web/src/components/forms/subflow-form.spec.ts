// The subflow node's form: it offers the tenant's workflows and a template per input of the picked workflow's trigger.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import { NODE_CATALOG, defaultNodeData } from '../../canvas/node-catalog';
import SubflowForm from './SubflowForm.vue';
import RunNodeDetails from '../run/RunNodeDetails.vue';
import { pendingNode } from '../../../../core/run-view';

const workflows = [
  { id: '11111111-1111-4111-8111-111111111111', name: 'Summarise one page' },
  { id: '22222222-2222-4222-8222-222222222222', name: 'Translate' },
];

describe('subflow form', () => {
  test('picks the workflow, its version, and maps each trigger input with a template', async () => {
    const wrapper = mount(SubflowForm, { props: { modelValue: { workflowId: '', inputs: {} }, workflows } });
    expect(wrapper.findAll('[data-testid="field-workflowId"] option').map((o) => o.text())).toEqual(['choose a workflow…', 'Summarise one page', 'Translate']);
    expect(wrapper.find('[data-testid="subflow-no-inputs"]').exists()).toBe(true);
    await wrapper.get('[data-testid="field-workflowId"]').setValue(workflows[1]!.id);
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toEqual({ workflowId: workflows[1]!.id, inputs: {} });

    await wrapper.setProps({ modelValue: { workflowId: workflows[1]!.id, inputs: {} }, childInputs: ['text', 'language'] });
    await wrapper.get('[data-testid="field-input-language"]').setValue('{{inputs.lang}}');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toEqual({ workflowId: workflows[1]!.id, inputs: { language: '{{inputs.lang}}' } });
    await wrapper.get('[data-testid="field-version"]').setValue('3');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toMatchObject({ version: 3 });
  });

  test("shows a mapping the workflow's trigger no longer declares", () => {
    const wrapper = mount(SubflowForm, { props: { modelValue: { workflowId: workflows[0]!.id, inputs: { old: 'x' } }, workflows, childInputs: ['url'] } });
    expect(wrapper.get('[data-testid="form-subflow"]').text()).toContain('old (not an input of this workflow)');
    expect(wrapper.find('[data-testid="field-input-url"]').exists()).toBe(true);
  });

  test('the palette offers the subflow node', () => {
    expect(NODE_CATALOG.some((n) => n.type === 'subflow')).toBe(true);
    expect(defaultNodeData('subflow')).toEqual({ workflowId: '', inputs: {} });
  });
});

describe("a subflow node's run details", () => {
  test('link to the child run once it started', () => {
    const RouterLink = { props: ['to'], template: '<a :data-to="JSON.stringify(to)"><slot /></a>' };
    const live = { ...pendingNode(), status: 'running' as const, childExecutionId: '33333333-3333-4333-8333-333333333333', childWorkflowId: workflows[0]!.id };
    const wrapper = mount(RunNodeDetails, { props: { nodeId: 'sub', details: undefined, live }, global: { stubs: { RouterLink } } });
    const link = wrapper.get('[data-testid="run-node-child-link"]');
    expect(link.text()).toBe('33333333');
    expect(JSON.parse(link.attributes('data-to')!)).toEqual({ name: 'run', params: { id: workflows[0]!.id, executionId: live.childExecutionId } });
  });
});
