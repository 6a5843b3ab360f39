import { Client } from 'pg';
import type { Logger } from 'pino';
import { ORDER_OUTCOME_CHANNEL } from './order.repository';

/**
 * Lets an HTTP call wait for its order's saga outcome. Outcomes arrive by Postgres LISTEN/NOTIFY, so
 * the instance holding the request learns it whichever instance handled the final command. A missed
 * notification only costs latency: callers re-read the order after the wait.
 */
export class OrderOutcomeWaiter {
  private readonly waiters = new Map<string, Set<() => void>>();
  private client: Client | undefined;
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('notification', (msg) => {
      if (msg.payload) this.release(msg.payload);
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'order outcome listener lost its connection; reconnecting');
      void client.end().catch(() => undefined);
      this.reconnectLater();
    });
    await client.connect();
    await client.query(`LISTEN ${ORDER_OUTCOME_CHANNEL}`);
    this.client = client;
    // Anything that ended while we were not listening: wake every waiter so it re-reads.
    for (const id of [...this.waiters.keys()]) this.release(id);
  }

  private reconnectLater(): void {
    this.client = undefined;
    if (this.stopped) return;
    setTimeout(() => {
      this.connect().catch(() => this.reconnectLater());
    }, 500).unref();
  }

  /** Registers interest before the saga can end; the returned promise resolves on outcome or timeout. */
  register(orderId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(orderId);
      if (!set) this.waiters.set(orderId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(orderId) === set) this.waiters.delete(orderId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  private release(orderId: string): void {
    const set = this.waiters.get(orderId);
    if (set) for (const done of [...set]) done();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.waiters.keys()]) this.release(id);
    await this.client?.end().catch(() => undefined);
  }
}
