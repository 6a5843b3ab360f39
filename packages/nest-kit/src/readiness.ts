/** An async check of a dependency: resolves when it is fine, throws (with the reason) when not. */
export type ReadinessProbe = () => Promise<unknown>;

/**
 * Readiness of a service made of parts. A part is either marked (ready / not ready with a reason,
 * e.g. the consumer once it joined its group) or probed on every health check (e.g. a database
 * ping, the outbox backlog). Ready once at least one part is registered and every part is ready;
 * `GET /health` answers 503 until then, naming the failing part.
 *
 * @example
 * const readiness = new Readiness(['kafka']);   // 'kafka' starts not ready
 * readiness.probe('db', () => db.query('SELECT 1'));
 * readiness.markReady('kafka');
 */
export class Readiness {
  private readonly parts = new Map<string, { ready: boolean; reason?: string }>();
  private readonly probes = new Map<string, ReadinessProbe>();

  constructor(parts: readonly string[] = []) {
    for (const part of parts) this.parts.set(part, { ready: false, reason: 'starting' });
  }

  markReady(part: string): void {
    this.parts.set(part, { ready: true });
  }

  markNotReady(part: string, reason: string): void {
    this.parts.set(part, { ready: false, reason });
  }

  /** Checks `part` with `probe` at every health check from now on (its marked state, if any, is dropped). */
  probe(part: string, probe: ReadinessProbe): void {
    this.parts.delete(part);
    this.probes.set(part, probe);
  }

  /** The marked parts' state (probes excluded: they need a health check to run). */
  isReady(): boolean {
    if (this.parts.size === 0 && this.probes.size === 0) return false;
    for (const state of this.parts.values()) if (!state.ready) return false;
    return true;
  }

  /** Each marked part and `'ok'` or the reason it is not ready. */
  checks(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [part, state] of this.parts) out[part] = state.ready ? 'ok' : (state.reason ?? 'not ready');
    return out;
  }

  /** The probed parts, by name. */
  probed(): ReadonlyMap<string, ReadinessProbe> {
    return this.probes;
  }
}
