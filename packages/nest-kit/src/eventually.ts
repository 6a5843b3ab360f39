/**
 * Polls `probe` until it returns without throwing, or fails
 * with the last error after `timeoutMs` (default 15 s). For tests of eventual outcomes instead of sleeps.
 *
 * @example
 * const reply = await eventually(async () => {
 *   const found = replies.find((r) => r.type === 'StockReserved');
 *   assert.ok(found);
 *   return found;
 * });
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  o: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  const interval = o.intervalMs ?? 50;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
