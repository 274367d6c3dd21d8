// The map node's form: it offers the tenant's workflows, edits the list and item inputs, and reports a bad concurrency.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import { NODE_CATALOG, defaultNodeData } from '../../canvas/node-catalog';
import { mapDataSchema } from '../../../../core/graph';
import MapForm from './MapForm.vue';
import CanvasNode from '../canvas/CanvasNode.vue';
import { pendingNode } from '../../../../core/run-view';

// Vue Flow's Handle needs a flow around it; a stub stands in.
const HandleStub = { props: ['id', 'type'], template: '<div class="handle-stub"><slot /></div>' };

const workflows = [
  { id: '11111111-1111-4111-8111-111111111111', name: 'Summarise one page' },
  { id: '22222222-2222-4222-8222-222222222222', name: 'Translate' },
];

describe('map form', () => {
  test('picks the item workflow and edits items, item inputs, concurrency and what a failing item does', async () => {
    const wrapper = mount(MapForm, { props: { modelValue: { items: '[1,2]', workflowId: '' }, workflows } });
    expect(wrapper.findAll('[data-testid="field-workflowId"] option').map((o) => o.text())).toEqual(['choose a workflow…', 'Summarise one page', 'Translate']);
    await wrapper.get('[data-testid="field-workflowId"]').setValue(workflows[1]!.id);
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toEqual({ items: '[1,2]', workflowId: workflows[1]!.id });

    await wrapper.setProps({ modelValue: { items: '[1,2]', workflowId: workflows[1]!.id } });
    await wrapper.get('[data-testid="field-itemInput"]').setValue('{"n": item}');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toMatchObject({ itemInput: '{"n": item}' });
    await wrapper.get('[data-testid="field-concurrency"]').setValue('20');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toMatchObject({ concurrency: 20 });
    await wrapper.get('[data-testid="field-onItemFailure"]').setValue('skip');
    expect(wrapper.emitted('update:modelValue')?.at(-1)?.[0]).toMatchObject({ onItemFailure: 'skip' });
  });

  test('reports a concurrency over 100 and an empty list', () => {
    const wrapper = mount(MapForm, { props: { modelValue: { items: '', workflowId: workflows[0]!.id, concurrency: 500 }, workflows } });
    expect(wrapper.find('[data-testid="issue-concurrency"]').exists()).toBe(true);
    expect(wrapper.find('[data-testid="issue-items"]').exists()).toBe(true);
    expect(wrapper.find('[data-testid="issue-workflowId"]').exists()).toBe(false);
  });

  test('the palette offers a map node whose fresh data needs only a workflow', () => {
    expect(NODE_CATALOG.map((n) => n.type)).toContain('map');
    const parsed = mapDataSchema.safeParse(defaultNodeData('map'));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['workflowId']);
  });

  test('a running map node on the canvas shows done/failed/total', () => {
    const run = { ...pendingNode(), status: 'running' as const, mapProgress: { done: 412, failed: 3, total: 10000 } };
    const config = { items: '[0..9999]', workflowId: workflows[0]!.id, concurrency: 20 };
    const wrapper = mount(CanvasNode, { props: { id: 'm', data: { nodeType: 'map', config, problems: [], run } }, global: { stubs: { Handle: HandleStub } } });
    expect(wrapper.get('[data-testid="node-map-progress-m"]').text()).toBe('· 412/10000 done · 3 failed');
  });
});
