/** Small HTTP helpers for end-to-end tests (JSON in, status + JSON out). */
export interface HttpResult {
  status: number;
  body: any;
  headers: Headers;
}

export async function request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export const get = (url: string) => request('GET', url);
export const post = (url: string, body?: unknown) => request('POST', url, body ?? {});

/**
 * Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws with the last
 * value or error). The way to wait for an eventual outcome; never a bare sleep.
 */
export async function eventually<T>(probe: () => Promise<T> | T, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms; last: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A signed-in client: every call carries its bearer token. */
export interface Client {
  token: string;
  get(url: string): Promise<HttpResult>;
  post(url: string, body?: unknown): Promise<HttpResult>;
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult>;
}

/** The client of a token. */
export function bearer(token: string): Client {
  const auth = { authorization: `Bearer ${token}` };
  return {
    token,
    get: (url) => request('GET', url, undefined, auth),
    post: (url, body) => request('POST', url, body ?? {}, auth),
    request: (method, url, body, headers = {}) => request(method, url, body, { ...auth, ...headers }),
  };
}

/** Logs in at the gateway `base`; the password defaults to the demo login's (`<username lower-case>-pass`). */
export async function signIn(base: string, username: string, password = `${username.toLowerCase()}-pass`): Promise<Client> {
  const res = await post(`${base}/api/auth/login`, { username, password });
  if (res.status !== 200) throw new Error(`login of ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return bearer(res.body.token as string);
}
