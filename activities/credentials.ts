// The credential resolver of agent turns: decrypts a tenant's provider key inside the activity, in the
// tenant's scope, so the secret exists only in the worker's memory for the length of one call — never in
// workflow input, history, events or logs (the workflow passes only the credential id).
import { CredentialRepository, type TenantScope, type VaultKeys } from '../db';
import { isUuid } from '../core/ids';
import type { CredentialResolver } from './agent-turn';

export function createCredentialResolver(scope: TenantScope, encryptionKey: VaultKeys): CredentialResolver {
  const credentials = new CredentialRepository(scope, encryptionKey);
  return async (tenantId, credentialId, provider) => {
    // Graph documents allow any short string as an id; one that is no UUID names no credential.
    if (!isUuid(credentialId)) return null;
    return scope.run(tenantId, () => credentials.reveal(credentialId.toLowerCase(), provider));
  };
}

/**
 * The secret of a credential an http tool or MCP server names, of whatever provider: decrypted in the worker
 * (or the API, listing an MCP server's tools) for one request, never handed to a workflow. Null when the
 * tenant has no such credential.
 */
export type ToolSecretResolver = (tenantId: string, credentialId: string) => Promise<string | null>;

export function createToolSecretResolver(scope: TenantScope, encryptionKey: VaultKeys): ToolSecretResolver {
  const credentials = new CredentialRepository(scope, encryptionKey);
  return async (tenantId, credentialId) => {
    if (!isUuid(credentialId)) return null;
    const revealed = await scope.run(tenantId, () => credentials.reveal(credentialId.toLowerCase(), null));
    return revealed?.secret ?? null;
  };
}
