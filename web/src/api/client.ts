// The one way the browser talks to the REST API: JSON in and out, the access token attached, a 401 answered
// by one token refresh and one retry, and API errors turned into ApiError with the server's code and message.
import { describeRequest, describeStatus } from './error-messages';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What the client needs from whoever holds the session (the auth store). */
export interface SessionTokens {
  accessToken(): string | null;
  /** Gets a fresh access token after a 401 for `staleToken`; false when the session is over. */
  refreshAfter(staleToken: string): Promise<boolean>;
}

let session: SessionTokens | null = null;

export function bindSession(tokens: SessionTokens | null): void {
  session = tokens;
}

export interface RequestOptions {
  body?: unknown;
  /** Send no token and never refresh (login, register, refresh itself). */
  anonymous?: boolean;
}

export async function apiRequest<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await authorizedFetch(method, path, opts);
  const text = await res.text();
  const parsed: unknown = text ? safeJson(text) : null;
  if (!res.ok) throw apiError(res.status, parsed, describeStatus(res.status, describeRequest(method, path)));
  return parsed as T;
}

/** A file the API streams (an exported wheel): its bytes and the filename the API gave it. */
export async function apiDownload(path: string): Promise<{ blob: Blob; filename: string }> {
  const res = await authorizedFetch('GET', path, {});
  if (!res.ok) {
    const text = await res.text();
    throw apiError(res.status, text ? safeJson(text) : null, describeStatus(res.status, 'Downloading the file'));
  }
  const disposition = res.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? path.split('/').pop() ?? 'download';
  return { blob: await res.blob(), filename };
}

/** Sends a request with the session's token; after a 401 it refreshes once (shared) and sends it again. */
async function authorizedFetch(method: string, path: string, opts: RequestOptions): Promise<Response> {
  const token = opts.anonymous ? null : (session?.accessToken() ?? null);
  const res = await send(method, path, opts.body, token);
  if (res.status === 401 && token !== null && session !== null && (await session.refreshAfter(token))) {
    return send(method, path, opts.body, session.accessToken());
  }
  return res;
}

function apiError(status: number, parsed: unknown, fallback: string): ApiError {
  const error = isRecord(parsed) && isRecord(parsed['error']) ? parsed['error'] : {};
  return new ApiError(
    status,
    typeof error['code'] === 'string' ? error['code'] : `HTTP_${status}`,
    typeof error['message'] === 'string' ? error['message'] : fallback,
    error['details'],
  );
}

function send(method: string, path: string, body: unknown, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A message to show for anything a request may throw (error-messages.ts writes it). */
export { describeError } from './error-messages';
