/**
 * The instances of one service behind the gateway, dealt round-robin. An instance is taken out when
 * its `/health` stops answering 200 (active check) or a request to it fails to connect (passive), and
 * comes back when `/health` answers 200 again.
 *
 * @example
 * const pool = new UpstreamPool('order', ['http://127.0.0.1:3001', 'http://127.0.0.1:3011']);
 * const first = pool.pick();                    // one instance
 * pool.markDown(first!, 'connection refused');
 * pool.pick(new Set([first!]));                 // the other one
 */
export class UpstreamPool {
  private readonly instances: { url: string; healthy: boolean; reason: string | undefined }[];
  private cursor = 0;

  constructor(
    readonly name: string,
    urls: readonly string[],
  ) {
    if (urls.length === 0) throw new Error(`upstream ${name} has no instance`);
    // Healthy until a check says otherwise, so the gateway serves before the first poll ends.
    this.instances = urls.map((url) => ({ url, healthy: true, reason: undefined }));
  }

  get urls(): string[] {
    return this.instances.map((i) => i.url);
  }

  /**
   * The next healthy instance not in `exclude` (round-robin). When every such instance is marked down,
   * one of them is still returned: a check may be stale, and trying costs one failed connection.
   * Undefined only when `exclude` holds every instance.
   */
  pick(exclude?: ReadonlySet<string>): string | undefined {
    const candidates = this.instances.filter((i) => !exclude?.has(i.url));
    if (candidates.length === 0) return undefined;
    const healthy = candidates.filter((i) => i.healthy);
    const from = healthy.length > 0 ? healthy : candidates;
    this.cursor = (this.cursor + 1) % Number.MAX_SAFE_INTEGER;
    return from[this.cursor % from.length].url;
  }

  /** Takes an instance out; true when it was in. */
  markDown(url: string, reason: string): boolean {
    const instance = this.instances.find((i) => i.url === url);
    if (instance === undefined) return false;
    const was = instance.healthy;
    instance.healthy = false;
    instance.reason = reason;
    return was;
  }

  /** Brings an instance back; true when it was out. */
  markUp(url: string): boolean {
    const instance = this.instances.find((i) => i.url === url);
    if (instance === undefined) return false;
    const was = instance.healthy;
    instance.healthy = true;
    instance.reason = undefined;
    return !was;
  }

  /** True while at least one instance is healthy. */
  get available(): boolean {
    return this.instances.some((i) => i.healthy);
  }

  /** Why the instances that are out are out, e.g. `http://127.0.0.1:3011: unreachable`. */
  downReasons(): string[] {
    return this.instances.filter((i) => !i.healthy).map((i) => `${i.url}: ${i.reason ?? 'down'}`);
  }
}

/** Methods whose repetition has no further effect (RFC 9110 §9.2.2): retried on another instance. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Connection errors that happen before any byte of the request reached the instance. */
const NOT_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH']);

/** Errors of the connection to the instance (not a slow answer): the instance is likely gone. */
const CONNECTION = new Set([...NOT_SENT, 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED']);

/** Whether an upstream error code is the instance's connection failing (then it is marked down). */
export function isConnectionFailure(code: string | undefined): boolean {
  return code !== undefined && CONNECTION.has(code);
}

/**
 * Whether a request that failed with `code` on one instance may go to another: an idempotent
 * request, or one carrying an `Idempotency-Key` the service honours (`keyed`: its repeat gets the
 * first one's outcome), after any connection failure — e.g. the instance died mid-request; any other
 * request only when it never reached the instance (nginx's `proxy_next_upstream` rule). A timeout is
 * never retried: the instance may still be working.
 *
 * @example
 * mayRetryElsewhere('POST', 'ECONNRESET');       // false: the order may exist
 * mayRetryElsewhere('POST', 'ECONNRESET', true); // true: the retry replays under the same key
 */
export function mayRetryElsewhere(method: string, code: string | undefined, keyed = false): boolean {
  if (code === undefined) return false;
  return keyed || IDEMPOTENT.has(method.toUpperCase()) ? CONNECTION.has(code) : NOT_SENT.has(code);
}
