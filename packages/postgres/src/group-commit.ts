/**
 * Group commit: callers submit one item each; items submitted while a write is in flight wait and
 * go together in the next write, so N concurrent callers share one transaction (one fsync) instead
 * of paying for N. An idle writer starts at once: no latency is added at low load. Each caller's
 * promise settles with its own item's result, after the write that holds it committed.
 *
 * If a write of several items fails, each item is written again on its own, so one bad item does
 * not fail the others; a write of one item rejects that item's caller. The same coalescing serves
 * reads: concurrent lookups by id become one query.
 *
 * @example
 * const inserts = new GroupCommit<Order, void>((orders) => db.transaction((tx) => repo.insertMany(tx, orders)));
 * await inserts.submit(order); // committed
 */
export class GroupCommit<I, O> {
  private pending: { item: I; resolve: (out: O) => void; reject: (err: unknown) => void }[] = [];
  private writing = false;

  /**
   * @param write writes the items in one transaction; returns one result per item, in order.
   * @param maxItems most items per write.
   */
  constructor(
    private readonly write: (items: readonly I[]) => Promise<readonly O[]>,
    private readonly maxItems = 500,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  /** Several items at once: they go in the same write (as far as maxItems allows). */
  submitAll(items: readonly I[]): Promise<PromiseSettledResult<O>[]> {
    const all = items.map((item) => new Promise<O>((resolve, reject) => this.pending.push({ item, resolve, reject })));
    if (!this.writing && items.length > 0) void this.flush();
    return Promise.allSettled(all);
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, this.maxItems);
        try {
          const out = await this.write(group.map((g) => g.item));
          group.forEach((g, i) => g.resolve(out[i]));
        } catch (err) {
          if (group.length === 1) {
            group[0].reject(err);
            continue;
          }
          for (const g of group) {
            await this.write([g.item]).then(
              (out) => g.resolve(out[0]),
              (e: unknown) => g.reject(e),
            );
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
