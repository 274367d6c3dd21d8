// The credential resolver of agent turns: decrypts a tenant's provider key inside the activity, in the
// tenant's scope, so the secret exists only in the worker's memory for the length of one call — never in
// workflow input, history, events or logs (the workflow passes only the credential id).
import { CredentialRepository, type TenantScope } from '../db';
import type { CredentialResolver } from './agent-turn';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createCredentialResolver(scope: TenantScope, encryptionKey: string): CredentialResolver {
  const credentials = new CredentialRepository(scope, encryptionKey);
  return async (tenantId, credentialId, provider) => {
    // Graph documents allow any short string as an id; one that is no UUID names no credential.
    if (!UUID.test(credentialId)) return null;
    return scope.run(tenantId, () => credentials.reveal(credentialId.toLowerCase(), provider));
  };
}
