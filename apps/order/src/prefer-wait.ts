/**
 * How long a saga-starting call waits for its outcome, from the client's `Prefer` header (RFC 7240):
 * `respond-async` answers 202 at once, `wait=N` waits at most N seconds; never longer than the
 * service's own bound. Returns the wait and the preference applied (for `Preference-Applied`).
 *
 * @example
 * preferredWait('respond-async', 10_000); // { waitMs: 0, applied: 'respond-async' }
 * preferredWait('wait=2', 10_000);        // { waitMs: 2000, applied: 'wait=2' }
 * preferredWait(undefined, 10_000);       // { waitMs: 10000, applied: undefined }
 */
export function preferredWait(prefer: string | undefined, maxMs: number): { waitMs: number; applied: string | undefined } {
  const preferences = (prefer ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
  if (preferences.includes('respond-async')) return { waitMs: 0, applied: 'respond-async' };
  for (const p of preferences) {
    const m = /^wait\s*=\s*(\d{1,6})$/.exec(p);
    if (m) {
      const waitMs = Math.min(Number(m[1]) * 1000, maxMs);
      return { waitMs, applied: `wait=${waitMs / 1000}` };
    }
  }
  return { waitMs: maxMs, applied: undefined };
}
