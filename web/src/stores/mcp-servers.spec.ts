// The MCP servers store: what it sends the API and how the list and the per-server tool lists follow.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { answer, api, resetApi } from '../testing/api-client-mock';
import { useMcpServersStore } from './mcp-servers';

vi.mock('../api/client', () => import('../testing/api-client-mock'));


const server = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: id,
  url: `http://127.0.0.1:9/${id}`,
  credentialId: null,
  createdAt: '2026-12-01T00:00:00.000Z',
  ...extra,
});

beforeEach(() => {
  setActivePinia(createPinia());
  resetApi();
});

describe('useMcpServersStore', () => {
  test('lists, registers with trimmed fields and a credential only when one is picked, and deletes', async () => {
    const store = useMcpServersStore();
    answer({ mcpServers: [server('a')] }, server('b'), server('c', { credentialId: 'cred-1' }));
    await store.refresh();
    expect(store.loaded).toBe(true);
    await store.create({ name: ' Docs ', url: ' http://127.0.0.1:9/mcp ' });
    await store.create({ name: 'Search', url: 'http://127.0.0.1:9/s', credentialId: 'cred-1' });
    expect(api.calls.map((c) => [c.method, c.path])).toEqual([
      ['GET', '/api/v1/mcp-servers'],
      ['POST', '/api/v1/mcp-servers'],
      ['POST', '/api/v1/mcp-servers'],
    ]);
    expect(api.calls.slice(1).map((c) => c.body)).toEqual([
      { name: 'Docs', url: 'http://127.0.0.1:9/mcp' },
      { name: 'Search', url: 'http://127.0.0.1:9/s', credentialId: 'cred-1' },
    ]);
    expect(store.items.map((s) => s.id)).toEqual(['a', 'b', 'c']);

    await store.remove('b');
    expect(api.calls.at(-1)).toEqual({ method: 'DELETE', path: '/api/v1/mcp-servers/b' });
    expect(store.items.map((s) => s.id)).toEqual(['a', 'c']);
  });

  test("keeps each server's tools once listed, forgets them with the server, and keeps the list when the API refuses", async () => {
    const store = useMcpServersStore();
    answer({ mcpServers: [server('a'), server('b')] }, { tools: [{ name: 'search', description: 'Searches' }, { name: 'fetch' }] });
    await store.refresh();
    await store.loadTools('a');
    expect(api.calls.at(-1)).toEqual({ method: 'GET', path: '/api/v1/mcp-servers/a/tools' });
    expect(store.tools['a']?.map((t) => t.name)).toEqual(['search', 'fetch']);

    api.answers.push(() => Promise.reject(new Error('the MCP server did not answer')));
    await expect(store.loadTools('a')).rejects.toThrow('did not answer');
    expect(store.tools['a']?.map((t) => t.name)).toEqual(['search', 'fetch']);
    expect(store.toolErrors['a']).toBe('the MCP server did not answer');
    answer({ tools: [{ name: 'search' }] });
    await store.loadTools('a');
    expect(store.toolErrors['a']).toBeUndefined();

    api.answers.push(() => Promise.reject(new Error('the URL must be http:// or https://')));
    await expect(store.create({ name: 'x', url: 'ftp://x' })).rejects.toThrow('http://');
    expect(store.items.map((s) => s.id)).toEqual(['a', 'b']);

    await store.remove('a');
    expect(store.tools['a']).toBeUndefined();
  });
});
