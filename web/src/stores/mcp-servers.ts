// The tenant's MCP servers: list, register {name, url, credential}, delete, and the tools each offers (asked
// of the server through the API, kept per server until asked again). Settings and the agent form read it.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { apiRequest, describeError } from '../api/client';
import type { McpServerTool, McpServerView, NewMcpServer } from '../api/settings-types';

export const useMcpServersStore = defineStore('mcp-servers', () => {
  const items = ref<McpServerView[]>([]);
  const loaded = ref(false);
  /** Server id → the tools it listed the last time it was asked. */
  const tools = ref<Record<string, McpServerTool[]>>({});
  /** Server id → why the last time it was asked failed (cleared by the next answer). */
  const toolErrors = ref<Record<string, string>>({});

  async function refresh(): Promise<void> {
    items.value = (await apiRequest<{ mcpServers: McpServerView[] }>('GET', '/api/v1/mcp-servers')).mcpServers;
    loaded.value = true;
  }

  async function create(input: NewMcpServer): Promise<McpServerView> {
    const body: NewMcpServer = { name: input.name.trim(), url: input.url.trim() };
    if (input.credentialId) body.credentialId = input.credentialId;
    const created = await apiRequest<McpServerView>('POST', '/api/v1/mcp-servers', { body });
    items.value = [...items.value, created];
    return created;
  }

  async function remove(id: string): Promise<void> {
    await apiRequest('DELETE', `/api/v1/mcp-servers/${encodeURIComponent(id)}`);
    items.value = items.value.filter((s) => s.id !== id);
    const known = { ...tools.value };
    delete known[id];
    tools.value = known;
  }

  /** Asks the server (through the API) for its tools; a failure is kept in toolErrors and leaves what was known. */
  async function loadTools(id: string): Promise<McpServerTool[]> {
    let listed: McpServerTool[];
    try {
      listed = (await apiRequest<{ tools: McpServerTool[] }>('GET', `/api/v1/mcp-servers/${encodeURIComponent(id)}/tools`)).tools;
    } catch (err) {
      toolErrors.value = { ...toolErrors.value, [id]: describeError(err) };
      throw err;
    }
    tools.value = { ...tools.value, [id]: listed };
    const errors = { ...toolErrors.value };
    delete errors[id];
    toolErrors.value = errors;
    return listed;
  }

  return { items, loaded, tools, toolErrors, refresh, create, remove, loadTools };
});
