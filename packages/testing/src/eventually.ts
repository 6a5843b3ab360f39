/**
 * Polls `probe` until it returns without throwing, or rethrows its last error after `timeoutMs`.
 * Tests wait for eventual outcomes with it instead of sleeping.
 *
 * @example
 * await eventually(async () => assert.equal(await count(), 1000), { timeoutMs: 30_000 });
 */
export async function eventually<T>(probe: () => T | Promise<T>, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  const interval = o.intervalMs ?? 25;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
