import { AppError, ErrorCode } from '@saga/contracts';
import type { Queryable } from '@saga/postgres';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { OrderOutcomeWaiter } from './order-outcome.waiter';
import type { OrderStatus } from './order-status';
import { OrderRepository, type StatusEventRow } from './order.repository';

/** Statuses after which an order event stream ends: the saga's outcomes, and the last delivery step. */
export const STREAM_END_STATUSES: readonly OrderStatus[] = ['PLACED', 'FAILED', 'CANCELED', 'DELIVERED', 'RETURNED'];

export interface OrderEventStreamsConfig {
  heartbeatMs: number;
  rereadMs: number;
}

const LAST_EVENT_ID = /^[0-9]{1,18}$/;

/** One Server-Sent Event for a history row; its id is the row id, so `Last-Event-ID` resumes after it. */
export function statusEvent(orderId: string, row: StatusEventRow): string {
  const data = { orderId, status: row.status, statusInfo: row.statusInfo, at: new Date(row.at).toISOString() };
  return `id: ${row.id}\nevent: status\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * `GET /api/orders/:id/events`: the order's current status, then each status change, as Server-Sent
 * Events, ending after a terminal status. Changes are read from the status history (so several changes
 * written by one batch all arrive, in order), woken by the LISTEN/NOTIFY of OrderOutcomeWaiter and
 * re-read periodically, so a missed notification only delays an event.
 */
export class OrderEventStreams {
  private readonly repo = new OrderRepository();
  private readonly open = new Set<() => void>();

  constructor(
    private readonly db: Queryable,
    private readonly waiter: OrderOutcomeWaiter,
    private readonly logger: Logger,
    private readonly config: OrderEventStreamsConfig,
  ) {}

  /** Answers 404 (thrown, before streaming) for an unknown order; otherwise takes the reply over. */
  async stream(orderId: string, lastEventId: string | undefined, reply: FastifyReply): Promise<void> {
    const order = await this.repo.find(this.db, orderId);
    if (!order) throw new AppError(ErrorCode.NotFound, `order ${orderId} does not exist`);
    let last = lastEventId !== undefined && LAST_EVENT_ID.test(lastEventId) ? lastEventId : undefined;
    const resumed = last !== undefined;

    void reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    let closed = false;
    let reading = false;
    let again = false;
    const close = (reason: 'ended' | 'client gone' | 'shutdown'): void => {
      if (closed) return;
      closed = true;
      this.logger.info({ orderId, reason, lastEventId: last }, 'order event stream closed');
      unsubscribe();
      clearInterval(heartbeat);
      clearInterval(reread);
      this.open.delete(closeForShutdown);
      if (!res.writableEnded) res.end();
    };
    // One read at a time; a wake-up during a read runs one more read after it.
    const pump = async (): Promise<void> => {
      if (closed) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          for (const row of await this.repo.statusEvents(this.db, orderId, last)) {
            if (closed) return;
            res.write(statusEvent(orderId, row));
            last = row.id;
            if (STREAM_END_STATUSES.includes(row.status)) return close('ended');
          }
        } while (again && !closed);
      } catch (err) {
        // Keep the stream: the next notification or periodic re-read tries again.
        this.logger.warn({ err, orderId }, 'order event stream could not read the order');
      } finally {
        reading = false;
      }
    };

    // Subscribe before the first read, so a change between the two is not lost.
    const unsubscribe = this.waiter.subscribe(orderId, () => void pump());
    const heartbeat = setInterval(() => {
      if (!closed) res.write(': heartbeat\n\n');
    }, this.config.heartbeatMs);
    const reread = setInterval(() => void pump(), this.config.rereadMs);
    res.on('close', () => close('client gone'));
    const closeForShutdown = (): void => close('shutdown');
    this.open.add(closeForShutdown);
    await pump();
    // Resumed after the terminal event: nothing more will come.
    if (!closed && resumed && STREAM_END_STATUSES.includes(order.status) && !reading) close('ended');
  }

  /** Ends every open stream (at shutdown, so the HTTP server can close). */
  closeAll(): void {
    for (const close of [...this.open]) close();
  }
}
