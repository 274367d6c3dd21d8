// The shapes the Settings pages read from the API: credentials (never their secret), members, API keys (the
// key itself only in the creation answer) and audit log entries.
import type { Role } from './types';

export type CredentialProvider = 'echo' | 'openai' | 'anthropic';

export interface CredentialUseView {
  workflowId: string;
  workflowName: string;
  nodeId: string;
}

export interface CredentialView {
  id: string;
  provider: CredentialProvider;
  name: string;
  baseUrl: string | null;
  createdBy: string | null;
  createdAt: string;
  rotatedAt: string | null;
  usedBy: CredentialUseView[];
}

export interface NewCredential {
  provider: CredentialProvider;
  name: string;
  secret: string;
  baseUrl?: string;
}

export interface CredentialChange {
  name?: string;
  secret?: string;
  baseUrl?: string | null;
}

export interface MemberView {
  id: string;
  email: string;
  name: string | null;
  role: Role;
}

export interface NewMember {
  email: string;
  name?: string;
  password: string;
  role: Role;
}

export type ApiKeyRole = Exclude<Role, 'owner'>;

export interface ApiKeyView {
  id: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKeyView {
  /** The key itself: in this answer only. */
  key: string;
}

export interface AuditEntryView {
  id: string;
  at: string;
  actorType: 'user' | 'api_key' | 'anonymous';
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetType?: string;
  since?: string;
  until?: string;
}

export type { McpServerView } from '../../../core/api-views';

export interface NewMcpServer {
  name: string;
  url: string;
  credentialId?: string;
}

/** One tool an MCP server offers, as its tools/list names it. */
export interface McpServerTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
}
