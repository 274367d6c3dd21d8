// The one way the browser talks to the REST API: JSON in and out, the access token attached, a 401 answered
// by one token refresh and one retry, and API errors turned into ApiError with the server's code and message.

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
  const token = opts.anonymous ? null : (session?.accessToken() ?? null);
  let res = await send(method, path, opts.body, token);
  if (res.status === 401 && token !== null && session !== null && (await session.refreshAfter(token))) {
    res = await send(method, path, opts.body, session.accessToken());
  }
  const text = await res.text();
  const parsed: unknown = text ? safeJson(text) : null;
  if (!res.ok) {
    const error = isRecord(parsed) && isRecord(parsed['error']) ? parsed['error'] : {};
    throw new ApiError(
      res.status,
      typeof error['code'] === 'string' ? error['code'] : `HTTP_${res.status}`,
      typeof error['message'] === 'string' ? error['message'] : `${method} ${path} failed with ${res.status}`,
      error['details'],
    );
  }
  return parsed as T;
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

/** A message to show for anything a request may throw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
