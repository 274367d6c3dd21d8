// Sentences for what went wrong, written for the person using the app: the API's own message (it says why),
// each refused field by name, and a status without an API answer (a proxy's 502, a lost connection) as what
// it means and what to do, never "PUT /api/v1/… failed with 502".
import { ApiError, isRecord } from './client';

/** What the user was doing, from the request, for a sentence such as "Saving the workflow failed". */
export function describeRequest(method: string, path: string): string {
  const resource = /\/api\/v1\/([a-z-]+)/.exec(path)?.[1]?.replace(/-/g, ' ') ?? 'the server';
  if (resource === 'auth') return 'Signing in';
  const single = resource.replace(/s$/, '');
  switch (method.toUpperCase()) {
    case 'GET':
      return `Loading ${resource}`;
    case 'POST':
      return `Creating the ${single}`;
    case 'PUT':
    case 'PATCH':
      return `Saving the ${single}`;
    case 'DELETE':
      return `Deleting the ${single}`;
    default:
      return 'The request';
  }
}

/** A status the API did not explain (no `{error}` body): what it means for the user. */
export function describeStatus(status: number, doing: string): string {
  if (status === 502 || status === 503 || status === 504) {
    return `${doing} failed: the Tessera API is not answering (HTTP ${status}). It may be restarting; try again in a moment.`;
  }
  if (status === 413) return `${doing} failed: what was sent is too large for the server.`;
  if (status === 401) return `${doing} failed: your session has ended. Sign in again.`;
  if (status === 403) return `${doing} failed: your role does not allow this.`;
  if (status === 404) return `${doing} failed: it no longer exists.`;
  if (status >= 500) return `${doing} failed: the server hit an error (HTTP ${status}). Try again; the API log says why if it persists.`;
  return `${doing} failed (HTTP ${status}).`;
}

interface FieldIssue {
  path: string;
  message: string;
}

function issuesOf(details: unknown): FieldIssue[] {
  const issues = isRecord(details) ? details['issues'] : undefined;
  if (!Array.isArray(issues)) return [];
  return issues.filter((i): i is FieldIssue => isRecord(i) && typeof i['path'] === 'string' && typeof i['message'] === 'string');
}

/** `body.baseUrl` → "Base URL"; the request part is dropped, camel case spelled out. */
export function fieldLabel(path: string): string {
  const field = path.split('.').slice(1).join(' ') || path;
  const words = field.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().replace(/\burl\b/g, 'URL').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A message to show for anything a request may throw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const issues = issuesOf(error.details);
    if (issues.length > 0) return issues.map((i) => `${fieldLabel(i.path)}: ${i.message}.`).join(' ');
    return error.message;
  }
  // fetch rejects with a TypeError when no answer came at all (the API is down, the network is gone); its
  // message differs per browser (Chromium, Firefox, Safari). Other TypeErrors are bugs and keep their message.
  if (error instanceof TypeError && /failed to fetch|networkerror|load failed/i.test(error.message)) {
    return 'Could not reach the Tessera API. Check your connection and that the server is running.';
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** What each run error code means, as a phrase before the API's own message. */
const RUN_ERROR_PHRASES: Record<string, string> = {
  PROVIDER_ERROR: 'The model provider refused the call',
  AGENT_FAILED: 'The agent failed',
  APPROVAL_TIMED_OUT: 'Nobody decided the approval in time',
  START_FAILED: 'The run could not start',
  RUN_TERMINATED: 'The run was stopped',
  OUTPUT_TOO_LARGE: 'A result was too large to keep',
  SUBFLOW_FAILED: 'A subflow failed',
  MAP_ITEM_FAILED: 'An item of a map failed',
  MAP_FAILED: 'The map failed',
  TOOL_ROUNDS_EXCEEDED: 'The agent used up its tool rounds',
  EVALUATION_ERROR: 'An expression or template could not be evaluated',
  EXPRESSION_LIMIT: 'An expression went over its limits',
};

/** A run's or node's error (`{code, message, nodeId?}`) as a sentence: where, what it means, and the API's words. */
export function describeRunError(error: { code: string; message: string; nodeId?: string } | null | undefined): string {
  if (!error) return '';
  const phrase = RUN_ERROR_PHRASES[error.code];
  const where = error.nodeId ? `At ${error.nodeId}: ` : '';
  const message = error.message.trim().replace(/\.$/, '');
  return phrase ? `${where}${phrase}: ${message}.` : `${where}${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
}
