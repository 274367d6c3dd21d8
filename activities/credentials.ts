// The credential resolver of agent turns: decrypts a tenant's provider key inside the activity, in the
// tenant's scope, so the secret exists only in the worker's memory for the length of one call — never in
// workflow input, history, events or logs (the workflow passes only the credential id).
import { CredentialRepository, type TenantScope } from '../db';
import { isUuid } from '../core/ids';
import type { CredentialResolver } from './agent-turn';

export function createCredentialResolver(scope: TenantScope, encryptionKey: string): CredentialResolver {
  const credentials = new CredentialRepository(scope, encryptionKey);
  return async (tenantId, credentialId, provider) => {
    // Graph documents allow any short string as an id; one that is no UUID names no credential.
    if (!isUuid(credentialId)) return null;
    return scope.run(tenantId, () => credentials.reveal(credentialId.toLowerCase(), provider));
  };
}
