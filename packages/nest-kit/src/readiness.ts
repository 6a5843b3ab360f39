/**
 * Readiness of a service made of parts (database, consumer, relay...). Ready once at least one part
 * is registered and every registered part is ready; `GET /health` answers 503 until then.
 *
 * @example
 * const readiness = new Readiness(['kafka']);   // 'kafka' starts not ready
 * readiness.markReady('kafka');
 * readiness.isReady(); // true
 */
export class Readiness {
  private readonly parts = new Map<string, { ready: boolean; reason?: string }>();

  constructor(parts: readonly string[] = []) {
    for (const part of parts) this.parts.set(part, { ready: false, reason: 'starting' });
  }

  markReady(part: string): void {
    this.parts.set(part, { ready: true });
  }

  markNotReady(part: string, reason: string): void {
    this.parts.set(part, { ready: false, reason });
  }

  isReady(): boolean {
    if (this.parts.size === 0) return false;
    for (const state of this.parts.values()) if (!state.ready) return false;
    return true;
  }

  /** Each part and `'ok'` or the reason it is not ready. */
  checks(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [part, state] of this.parts) out[part] = state.ready ? 'ok' : (state.reason ?? 'not ready');
    return out;
  }
}
