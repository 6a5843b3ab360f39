/** An error answer of the API: `{code, message}` with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown = undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let currentToken: string | undefined;

/** The bearer token sent with every call (set by the session on sign-in / sign-out). */
export function setToken(token: string | undefined): void {
  currentToken = token;
}

export function getToken(): string | undefined {
  return currentToken;
}

/** Called when a call answers 401 (the token expired): the session signs out. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/**
 * A JSON call to the gateway. Resolves with the parsed body for 2xx (and 202), throws an
 * {@link ApiError} with the API's code and message otherwise, or a NETWORK error when the gateway
 * cannot be reached.
 */
export async function api<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (currentToken) headers.authorization = `Bearer ${currentToken}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: init.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'The service cannot be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (res.ok) return parsed as T;
  const e = (parsed ?? {}) as { code?: unknown; message?: unknown };
  if (res.status === 401 && path !== '/api/auth/login') onUnauthorized();
  throw new ApiError(
    res.status,
    typeof e.code === 'string' ? e.code : `HTTP_${res.status}`,
    typeof e.message === 'string' ? e.message : `The request failed (${res.status}).`,
    parsed,
  );
}
