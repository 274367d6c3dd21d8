// The agent form's tools: adding each kind, the parameters schema checked as it is typed, an MCP server's
// tools picked from its list, approval per tool, removing a tool; the node data it emits is what the canvas saves.
import { mount, type VueWrapper } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import AgentForm from './AgentForm.vue';

const base = { provider: 'echo', model: 'echo-1', prompt: 'hi' };

/** The form with every emitted value fed back, as the canvas does. */
function form(data: Record<string, unknown>, extra: Record<string, unknown> = {}): VueWrapper {
  const wrapper: VueWrapper = mount(AgentForm, {
    props: { modelValue: data, variables: [], ...extra, 'onUpdate:modelValue': (d: Record<string, unknown>) => wrapper.setProps({ modelValue: d }) },
    global: { stubs: { RouterLink: { template: '<a><slot /></a>' } } },
  });
  return wrapper;
}

const last = (wrapper: VueWrapper) => wrapper.emitted('update:modelValue')?.at(-1)?.[0] as Record<string, unknown> | undefined;

describe('agent tools', () => {
  test('adds an http tool with a free name and edits it; emptying the list removes the field', async () => {
    const wrapper = form({ ...base });
    await wrapper.get('[data-testid="tool-add-http"]').trigger('click');
    expect(last(wrapper)?.['tools']).toEqual([{ type: 'http', name: 'http_1', method: 'GET', url: 'https://' }]);
    await wrapper.get('[data-testid="tool-0-url"]').setValue('https://api.example.com/weather?city={{args.city}}');
    await wrapper.get('[data-testid="tool-0-method"]').setValue('POST');
    await wrapper.get('[data-testid="tool-0-headers"]').setValue('Accept: application/json\nX-Trace: {{inputs.id}}');
    await wrapper.get('[data-testid="tool-0-headers"]').trigger('change');
    expect(last(wrapper)?.['tools']).toEqual([
      {
        type: 'http',
        name: 'http_1',
        method: 'POST',
        url: 'https://api.example.com/weather?city={{args.city}}',
        headers: { Accept: 'application/json', 'X-Trace': '{{inputs.id}}' },
      },
    ]);
    await wrapper.get('[data-testid="tool-add-http"]').trigger('click');
    expect((last(wrapper)?.['tools'] as { name: string }[]).map((t) => t.name)).toEqual(['http_1', 'http_2']);
    await wrapper.get('[data-testid="tool-1-remove"]').trigger('click');
    await wrapper.get('[data-testid="tool-0-remove"]').trigger('click');
    expect(last(wrapper)).toEqual(base);
  });

  test('the parameters schema reaches the node only as a JSON object, and says what is wrong meanwhile', async () => {
    const wrapper = form({ ...base, tools: [{ type: 'http', name: 'weather', method: 'GET', url: 'https://x' }] });
    const field = wrapper.get('[data-testid="tool-0-parameters"]');
    await field.setValue('{"type": "object", "properties": {');
    expect(wrapper.get('[data-testid="issue-tools.0.parameters"]').text()).toContain('not JSON yet');
    expect(wrapper.emitted('update:modelValue')).toBeUndefined();

    await field.setValue('["city"]');
    expect(wrapper.get('[data-testid="issue-tools.0.parameters"]').text()).toContain('JSON object');

    await field.setValue('{"type": "array"}');
    expect(wrapper.get('[data-testid="issue-tools.0.parameters"]').text()).toContain('type "object"');

    await field.setValue('{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}');
    expect(wrapper.find('[data-testid="issue-tools.0.parameters"]').exists()).toBe(false);
    expect(last(wrapper)?.['tools']).toEqual([
      { type: 'http', name: 'weather', method: 'GET', url: 'https://x', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    ]);
  });

  test("an MCP tool asks for the server's tools, then keeps the ones ticked", async () => {
    const mcpServers = [
      { id: 's1', name: 'Docs' },
      { id: 's2', name: 'Search' },
    ];
    const wrapper = form({ ...base }, { mcpServers, mcpTools: {} });
    await wrapper.get('[data-testid="tool-add-mcp"]').trigger('click');
    expect(last(wrapper)?.['tools']).toEqual([{ type: 'mcp', serverId: 's1' }]);
    expect(wrapper.emitted('load-mcp-tools')?.at(-1)).toEqual(['s1']);

    await wrapper.get('[data-testid="tool-0-server"]').setValue('s2');
    expect(wrapper.emitted('load-mcp-tools')?.at(-1)).toEqual(['s2']);
    expect(wrapper.text()).toContain('Asking the server for its tools');

    await wrapper.setProps({ mcpTools: { s2: [{ name: 'search', description: 'Full-text search' }, { name: 'fetch' }] } });
    await wrapper.get('[data-testid="tool-0-mcp-fetch"]').setValue(true);
    expect(last(wrapper)?.['tools']).toEqual([{ type: 'mcp', serverId: 's2', tools: ['fetch'] }]);
    await wrapper.get('[data-testid="tool-0-mcp-fetch"]').setValue(false);
    expect(last(wrapper)?.['tools']).toEqual([{ type: 'mcp', serverId: 's2' }]);

    await wrapper.setProps({ mcpTools: {}, mcpToolErrors: { s2: 'the MCP server could not be reached' } });
    expect(wrapper.get('[data-testid="tool-0-mcp-error"]').text()).toContain('could not be reached');
  });

  test('a workflow tool picks a saved workflow; approval can name single tools, and the rounds are bounded', async () => {
    const workflows = [{ id: 'w1', name: 'Summarise' }];
    const wrapper = form({ ...base }, { workflows });
    await wrapper.get('[data-testid="tool-add-workflow"]').trigger('click');
    expect(last(wrapper)?.['tools']).toEqual([{ type: 'workflow', name: 'workflow_1', workflowId: 'w1' }]);

    await wrapper.get('[data-testid="field-toolApproval"]').setValue('some');
    expect(last(wrapper)?.['toolApproval']).toEqual([]);
    await wrapper.get('[data-testid="tool-approval-workflow_1"]').setValue(true);
    expect(last(wrapper)?.['toolApproval']).toEqual(['workflow_1']);
    await wrapper.get('[data-testid="field-toolApproval"]').setValue('all');
    expect(last(wrapper)?.['toolApproval']).toBe('all');

    await wrapper.get('[data-testid="field-maxToolRounds"]').setValue('80');
    expect(last(wrapper)?.['maxToolRounds']).toBe(80);
    expect(wrapper.find('[data-testid="issue-maxToolRounds"]').exists()).toBe(true);
  });

  test("an http tool's credential may name the header its secret goes in, offered once a credential is picked", async () => {
    const wrapper = form({ ...base, tools: [{ type: 'http', name: 'crm', method: 'GET', url: 'https://x' }] }, { credentials: [{ id: 'c1', provider: 'openai', name: 'CRM key' }] });
    expect(wrapper.find('[data-testid="tool-0-credentialHeader"]').exists()).toBe(false);
    await wrapper.get('[data-testid="tool-0-credential"]').setValue('c1');
    await wrapper.get('[data-testid="tool-0-credentialHeader"]').setValue('X-Api-Key');
    expect(last(wrapper)?.['tools']).toEqual([{ type: 'http', name: 'crm', method: 'GET', url: 'https://x', credentialId: 'c1', credentialHeader: 'X-Api-Key' }]);
  });

  test('a tool name the model cannot take is reported under the field', () => {
    const wrapper = form({ ...base, tools: [{ type: 'http', name: 'get weather!', method: 'GET', url: 'https://x' }] });
    expect(wrapper.get('[data-testid="issue-tools.0.name"]').text()).toContain('letters, digits');
  });
});
