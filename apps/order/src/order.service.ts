import { AppError, DEFAULT_CURRENCY, ErrorCode, TOPICS, toCents } from '@saga/contracts';
import { enqueueOutbox, newEnvelope, toTopic, type OutboxRelay, type OutgoingMessage } from '@saga/messaging';
import { GroupCommit, type Database } from '@saga/postgres';
import { decodeCursor, pageOf, type Page } from '@saga/nest-kit';
import { v7 as uuidv7 } from 'uuid';
import type { Catalog } from './catalog';
import type { CustomerDirectory } from './customers';
import type { CreateOrderInput } from './create-order.dto';
import type { OrderOutcomeWaiter } from './order-outcome.waiter';
import { assertTransition, type OrderStatus } from './order-status';
import { OrderRepository, type NewOrder, type OrderDetails, type OrderItemRow, type OrderRow } from './order.repository';
import { orderView, type OrderView } from './order.view';

export interface OrderServiceConfig {
  /** How long an HTTP call that starts a saga waits for its outcome before answering 202. */
  waitMs: number;
  /** How long an INITIATED order may stay unpaid. */
  expiryMs: number;
}

/** What a saga-starting call answers: the finished order, or the order still running (202). */
export type SagaCallResult = { done: true; order: OrderView } | { done: false; order: OrderView };

/** Order rules: creation with catalog prices, starting and awaiting the saga, cancel, status updates. */
interface PendingInsert {
  order: NewOrder;
  events: OutgoingMessage[];
}

export class OrderService {
  private readonly repo = new OrderRepository();
  private readonly inserts = new GroupCommit<PendingInsert, void>((batch) => this.writeOrders(batch));
  /** Concurrent reads of orders (outcomes of saga calls, GETs, lists) share one query. */
  private readonly reads = new GroupCommit<string, OrderDetails | undefined>(async (ids) => {
    const found = await this.repo.findDetailsMany(this.db, ids);
    return ids.map((id) => found.get(id));
  });

  constructor(
    private readonly db: Database,
    private readonly catalog: Catalog,
    private readonly customers: CustomerDirectory,
    private readonly waiter: OrderOutcomeWaiter,
    private readonly relay: OutboxRelay,
    private readonly config: OrderServiceConfig,
  ) {}

  /** `POST /api/orders`: creates an INITIATED order, no saga yet. */
  async create(input: CreateOrderInput, correlationId?: string): Promise<OrderView> {
    const id = uuidv7();
    await this.insert(id, input, false, correlationId);
    return this.view(id);
  }

  /** The longest a saga-starting call waits for its outcome (ORDER_WAIT_MS). */
  get maxWaitMs(): number {
    return this.config.waitMs;
  }

  /**
   * `POST /orders`: creates the order and runs the whole saga, waiting for its outcome at most
   * `waitMs` (default and bound: ORDER_WAIT_MS).
   */
  async place(input: CreateOrderInput, correlationId?: string, waitMs = this.config.waitMs): Promise<SagaCallResult> {
    const id = uuidv7();
    const outcome = this.waiter.register(id, Math.min(waitMs, this.config.waitMs));
    await this.insert(id, input, true, correlationId);
    await outcome;
    return this.outcome(id);
  }

  /** `POST /api/orders/:id/payment`: starts the saga of an INITIATED order and waits for it (as `place`). */
  async pay(orderId: string, correlationId?: string, waitMs = this.config.waitMs): Promise<SagaCallResult> {
    const outcome = this.waiter.register(orderId, Math.min(waitMs, this.config.waitMs));
    await this.relay.transaction(async (tx, enqueue) => {
      const started = await this.repo.markSagaStarted(tx, orderId);
      if (!started) {
        const existing = await this.repo.find(tx, orderId);
        if (!existing) throw new AppError(ErrorCode.NotFound, `order ${orderId} does not exist`);
        throw new AppError(ErrorCode.OrderNotPayable, `order ${orderId} is ${existing.status} and cannot be paid`, {
          status: existing.status,
        });
      }
      await enqueue([this.paymentRequested(started, await this.repo.items(tx, orderId), correlationId)]);
    });
    await outcome;
    return this.outcome(orderId);
  }

  async get(orderId: string): Promise<OrderView> {
    return this.view(orderId);
  }

  async details(orderId: string): Promise<OrderDetails> {
    const found = await this.reads.submit(orderId);
    if (!found) throw new AppError(ErrorCode.NotFound, `order ${orderId} does not exist`);
    return found;
  }

  /** A page of a customer's orders; their details come in one coalesced read. */
  async listByCustomer(q: { customerId: string; limit: number; cursor?: string; sort: 'asc' | 'desc' }): Promise<Page<OrderView>> {
    const after = decodeCursor(q.cursor, 2) as [string, string] | undefined;
    const rows = await this.repo.listByCustomer(this.db, { customerId: q.customerId, limit: q.limit + 1, after, sort: q.sort });
    const page = pageOf(rows, q.limit, (r) => [r.createdAt, r.id]);
    return { ...page, items: await Promise.all(page.items.map((r) => this.view(r.id))) };
  }

  /** Cancels an order whose payment has not started. */
  async cancel(orderId: string): Promise<OrderView> {
    await this.db.transaction(async (tx) => {
      const order = await this.repo.findForUpdate(tx, orderId);
      if (!order) throw new AppError(ErrorCode.NotFound, `order ${orderId} does not exist`);
      if (order.status !== 'INITIATED' || order.sagaStartedAt) {
        throw new AppError(ErrorCode.InvalidTransition, `order ${orderId} is ${order.status} and cannot be canceled`, {
          status: order.status,
        });
      }
      const row = await this.repo.transition(tx, orderId, ['INITIATED'], 'CANCELED', {
        statusInfo: 'canceled by the customer',
      });
      await enqueueOutbox(tx, [this.statusChanged(row!)]);
    });
    this.relay.wake();
    return this.view(orderId);
  }

  /** Operator status update after placement (ON_WAY, DELIVERED), transitions enforced. */
  async updateStatus(orderId: string, to: OrderStatus): Promise<OrderView> {
    await this.db.transaction(async (tx) => {
      const order = await this.repo.findForUpdate(tx, orderId);
      if (!order) throw new AppError(ErrorCode.NotFound, `order ${orderId} does not exist`);
      assertTransition(orderId, order.status, to);
      const row = await this.repo.transition(tx, orderId, [order.status], to);
      await enqueueOutbox(tx, [this.statusChanged(row!)]);
    });
    this.relay.wake();
    return this.view(orderId);
  }

  /** Cancels INITIATED orders that were never paid in time (called by the expiry poller). */
  async expireDue(limit = 100): Promise<number> {
    const n = await this.db.transaction(async (tx) => {
      const ids = await this.repo.claimExpired(tx, limit);
      const events = [];
      for (const id of ids) {
        const row = await this.repo.transition(tx, id, ['INITIATED'], 'CANCELED', {
          statusInfo: 'expired: not paid in time',
          failureCode: ErrorCode.OrderExpired,
        });
        if (row) events.push(this.statusChanged(row));
      }
      await enqueueOutbox(tx, events);
      return ids.length;
    });
    if (n > 0) this.relay.wake();
    return n;
  }

  /** The order.events message announcing a status change. */
  statusChanged(row: OrderRow) {
    return toTopic(
      TOPICS.orderEvents,
      newEnvelope(
        'OrderStatusChanged',
        { orderId: row.id, customerId: row.customerId, status: row.status, statusInfo: row.statusInfo },
        { sagaId: row.id },
      ),
    );
  }

  private async insert(id: string, input: CreateOrderInput, startSaga: boolean, correlationId?: string) {
    const [catalog] = await Promise.all([this.catalog.products(input.orderItems.map((i) => i.productId)), this.customers.assertKnown(input.customerId)]);
    const items = input.orderItems.map((item, index) => {
      const product = catalog.get(item.productId)!;
      const lineCents = product.priceCents * item.quantity;
      if (item.totalPrice !== undefined && toCents(item.totalPrice) !== lineCents) {
        throw new AppError(
          ErrorCode.ValidationFailed,
          `orderItems.${index}.totalPrice: ${item.totalPrice} disagrees with the catalog (${lineCents / 100})`,
          { field: `orderItems.${index}.totalPrice` },
        );
      }
      return { productId: item.productId, quantity: item.quantity, unitPriceCents: product.priceCents };
    });
    const order: NewOrder = {
      id,
      customerId: input.customerId,
      amountCents: items.reduce((sum, i) => sum + i.unitPriceCents * i.quantity, 0),
      currency: DEFAULT_CURRENCY,
      expiresAt: new Date(Date.now() + this.config.expiryMs),
      sagaStarted: startSaga,
      items,
    };
    await this.inserts.submit({ order, events: startSaga ? [this.paymentRequested(order, items, correlationId)] : [] });
  }

  /** Concurrent order creations share one transaction (group commit): one statement for their rows, one for their events. */
  private writeOrders(batch: readonly PendingInsert[]): Promise<void[]> {
    return this.relay.transaction(async (tx, enqueue) => {
      await this.repo.insertMany(tx, batch.map((b) => b.order));
      await enqueue(batch.flatMap((b) => b.events));
      return batch.map(() => undefined);
    });
  }

  /** The event that starts the order's saga; the order is PAYMENT_PENDING in the same transaction. */
  private paymentRequested(
    order: Pick<OrderRow, 'id' | 'customerId' | 'amountCents' | 'currency'>,
    items: readonly OrderItemRow[],
    correlationId: string | undefined,
  ): OutgoingMessage {
    const envelope = newEnvelope(
      'OrderPaymentRequested',
      { orderId: order.id, customerId: order.customerId, items: [...items], amountCents: order.amountCents, currency: order.currency },
      { sagaId: order.id, correlationId: correlationId ?? order.id },
    );
    return toTopic(TOPICS.orderEvents, envelope);
  }

  private async outcome(orderId: string): Promise<SagaCallResult> {
    const order = await this.details(orderId);
    if (order.status === 'FAILED' || order.status === 'CANCELED') {
      const code = (order.failureCode as ErrorCode | null) ?? ErrorCode.Conflict;
      throw new AppError(code, order.statusInfo ?? `order ${orderId} ${order.status}`, { order: orderView(order) });
    }
    return { done: order.status === 'PLACED', order: orderView(order) };
  }

  private async view(orderId: string): Promise<OrderView> {
    return orderView(await this.details(orderId));
  }
}
