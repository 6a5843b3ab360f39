import type { Notifications, NotificationSubscription } from '@saga/postgres';
import type { Logger } from 'pino';
import { SAGA_OUTCOMES, type OrderStatus } from './order-status';
import { ORDER_STATUS_CHANNEL, parseStatusNotification } from './order.repository';

/**
 * Lets an HTTP call wait for its order's saga outcome, and event streams follow every status change.
 * Changes arrive by Postgres LISTEN/NOTIFY (the Notifications port: a pg connection, or PGlite's
 * listen), so the instance holding the request learns them whichever instance handled the command. A missed notification only costs latency: callers re-read the order
 * after the wait, and subscribers are also called after every reconnect (and re-read periodically).
 */
export class OrderOutcomeWaiter {
  private stopped = false;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly subscribers = new Map<string, Set<() => void>>();
  private subscription: NotificationSubscription | undefined;

  constructor(
    private readonly notifications: Notifications,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.notifications.listen(ORDER_STATUS_CHANNEL, {
      onNotify: (payload) => {
        const note = parseStatusNotification(payload);
        if (!note) return;
        this.notifySubscribers(note.orderId);
        if (SAGA_OUTCOMES.includes(note.status as OrderStatus)) this.release(note.orderId);
      },
      // Anything that changed while we were not listening: wake every waiter and subscriber so it re-reads.
      onGap: () => {
        for (const id of [...this.waiters.keys()]) this.release(id);
        for (const id of [...this.subscribers.keys()]) this.notifySubscribers(id);
      },
    });
  }

  /**
   * Registers interest before the saga can end; the returned promise resolves on outcome, timeout or
   * `signal` (the caller no longer waits).
   */
  register(orderId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    // Shutting down: nobody will apply the outcome here; the caller answers 202 at once.
    if (this.stopped || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(orderId);
      if (!set) this.waiters.set(orderId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(orderId) === set) this.waiters.delete(orderId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /**
   * Calls `listener` on every status change of the order (and after a reconnect, when changes may
   * have been missed); it should re-read the order. Returns the unsubscribe function.
   */
  subscribe(orderId: string, listener: () => void): () => void {
    let set = this.subscribers.get(orderId);
    if (!set) this.subscribers.set(orderId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.subscribers.get(orderId) === set) this.subscribers.delete(orderId);
    };
  }

  private notifySubscribers(orderId: string): void {
    const set = this.subscribers.get(orderId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener();
      } catch (err) {
        this.logger.warn({ err, orderId }, 'order status subscriber failed');
      }
    }
  }

  private release(orderId: string): void {
    const set = this.waiters.get(orderId);
    if (set) for (const done of [...set]) done();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.waiters.keys()]) this.release(id);
    await this.subscription?.close();
  }
}
