import { AppError, DEFAULT_CURRENCY, ErrorCode, TOPICS, toCents, uuidv7 } from '@saga/contracts';
import { enqueueOutbox, newEnvelope, toTopic, type OutboxRelay, type OutgoingMessage } from '@saga/messaging';
import { GroupCommit, type Database, type Queryable } from '@saga/postgres';
import { decodeCursor, pageOf, type Page } from '@saga/nest-kit';
import type { Catalog } from './catalog';
import type { CustomerDirectory } from './customers';
import type { CreateOrderInput } from './create-order.dto';
import { keyScope, replayedOrderId, requestFingerprint, type IdempotencyKeyClaim, type KeyedOperation } from './idempotency-key';
import type { OrderOutcomeWaiter } from './order-outcome.waiter';
import { assertTransition, canTransition, isPrePlaced, type OrderStatus } from './order-status';
import { OrderRepository, type NewOrder, type OrderDetails, type OrderItemRow, type OrderRow } from './order.repository';
import { orderView, type OrderView } from './order.view';

export interface OrderServiceConfig {
  /** How long an HTTP call that starts a saga waits for its outcome before answering 202. */
  waitMs: number;
  /** How long an INITIATED order may stay unpaid. */
  expiryMs: number;
  /** How long an Idempotency-Key is kept (IDEMPOTENCY_KEY_TTL_MS); a later repeat is a new request. */
  idempotencyKeyTtlMs: number;
}

/** What a saga-starting call answers: the finished order, or the order still running (202). */
export type SagaCallResult = { done: true; order: OrderView } | { done: false; order: OrderView };

/** How a creating or saga-starting call is made. */
export interface OrderCallOptions {
  /** The request id, carried as the saga's correlation id. */
  correlationId?: string;
  /** How long a saga-starting call waits for the outcome (bounded by, and by default, ORDER_WAIT_MS). */
  waitMs?: number;
  /**
   * The client's Idempotency-Key (scoped to the order's customer): the first request with it does
   * the work; a repeat of the same request gets that request's order, waited for like the first;
   * the key with another request is a 422 IDEMPOTENCY_KEY_REUSED.
   */
  idempotencyKey?: string;
  /** Called when the call is answered as a repeat of an earlier one with the same key. */
  onReplay?: () => void;
}

interface PendingInsert {
  order: NewOrder;
  events: OutgoingMessage[];
  key: IdempotencyKeyClaim | undefined;
}

/** The order a creation answers with: its own, or (a repeat under a held key) the key's order. */
type InsertResult = { orderId: string } | { held: IdempotencyKeyClaim | undefined };

/** Order rules: creation with catalog prices, starting and awaiting the saga, cancel, status updates. */
export class OrderService {
  private readonly repo = new OrderRepository();
  private readonly inserts = new GroupCommit<PendingInsert, InsertResult>((batch) => this.writeOrders(batch));
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

  /** `POST /api/orders`: creates an INITIATED order, no saga yet (a repeat under its key: that order, as it is now). */
  async create(input: CreateOrderInput, o: OrderCallOptions = {}): Promise<OrderView> {
    const id = uuidv7();
    const orderId = await this.insert(id, input, 'create', o);
    if (orderId !== id) o.onReplay?.();
    return this.view(orderId);
  }

  /** The longest a saga-starting call waits for its outcome (ORDER_WAIT_MS). */
  get maxWaitMs(): number {
    return this.config.waitMs;
  }

  /**
   * `POST /orders`: creates the order and runs the whole saga, waiting for its outcome at most
   * `waitMs` (default and bound: ORDER_WAIT_MS).
   */
  async place(input: CreateOrderInput, o: OrderCallOptions = {}): Promise<SagaCallResult> {
    const id = uuidv7();
    const waitMs = this.boundedWait(o.waitMs);
    const stopWaiting = new AbortController();
    const outcome = this.waiter.register(id, waitMs, stopWaiting.signal);
    try {
      const orderId = await this.insert(id, input, 'place', o);
      if (orderId !== id) {
        stopWaiting.abort();
        o.onReplay?.();
        return await this.awaitEarlier(orderId, waitMs, 'place');
      }
    } catch (err) {
      stopWaiting.abort();
      throw err;
    }
    await outcome;
    return this.outcome(id);
  }

  /**
   * `POST /api/orders/:id/payment`: starts the saga of an INITIATED order and waits for it (as `place`).
   * With a key, a repeat of the payment that started the saga waits for that saga's outcome (not 409).
   */
  pay(orderId: string, o: OrderCallOptions = {}): Promise<SagaCallResult> {
    return this.sagaCallOnOrder(orderId, o, 'pay', async (tx, enqueue) => {
      const started = await this.repo.markSagaStarted(tx, orderId);
      if (!started) {
        const existing = await this.repo.find(tx, orderId);
        if (!existing) throw new AppError(ErrorCode.NotFound, `order ${orderId} does not exist`);
        throw new AppError(ErrorCode.OrderNotPayable, `order ${orderId} is ${existing.status} and cannot be paid`, {
          status: existing.status,
        });
      }
      await enqueue([this.paymentRequested(started, await this.repo.items(tx, orderId), o.correlationId)]);
    });
  }

  /**
   * `POST /api/orders/:id/return`: a PLACED order goes back (the return saga: refund, restock,
   * RETURNED). The order becomes RETURN_PENDING in the transaction that writes the saga's start
   * event (OrderReturnRequested), and the call waits for the outcome like `pay`: RETURNED answers
   * the order; a failed return (the order PLACED again, status info saying why) answers the
   * failure's code; still running, 202. Any other status is a 409 ORDER_NOT_RETURNABLE. With a key,
   * a repeat waits for (or answers) the outcome of the return it started.
   */
  returnOrder(orderId: string, o: OrderCallOptions = {}): Promise<SagaCallResult> {
    return this.sagaCallOnOrder(orderId, o, 'return', async (tx, enqueue, order) => {
      if (!canTransition(order.status, 'RETURN_PENDING')) {
        throw new AppError(ErrorCode.OrderNotReturnable, `order ${orderId} is ${order.status}: only a PLACED order can be returned`, {
          status: order.status,
        });
      }
      const row = await this.repo.transition(tx, orderId, ['PLACED'], 'RETURN_PENDING', { statusInfo: 'return requested' });
      await enqueue([this.returnRequested(row!, await this.repo.items(tx, orderId), o.correlationId)]);
    });
  }

  /**
   * A call that starts a saga on an existing order (pay, return): the wait for its outcome is
   * registered first, then one transaction locks the order, claims the call's idempotency key (a
   * repeat — a concurrent one waits here for this transaction — replays the holder's outcome instead)
   * and runs `start`; then the outcome is waited for.
   */
  private async sagaCallOnOrder(
    orderId: string,
    o: OrderCallOptions,
    operation: 'pay' | 'return',
    start: (tx: Queryable, enqueue: (messages: readonly OutgoingMessage[]) => Promise<void>, order: OrderRow) => Promise<void>,
  ): Promise<SagaCallResult> {
    const waitMs = this.boundedWait(o.waitMs);
    const stopWaiting = new AbortController();
    const outcome = this.waiter.register(orderId, waitMs, stopWaiting.signal);
    let replayed = false;
    await this.relay.transaction(async (tx, enqueue) => {
      const order = await this.repo.findForUpdate(tx, orderId);
      if (!order) throw new AppError(ErrorCode.NotFound, `order ${orderId} does not exist`);
      if (o.idempotencyKey !== undefined) {
        const claim = this.claimOf(o.idempotencyKey, order.customerId, operation, { orderId }, orderId);
        const claimed = await this.repo.claimIdempotencyKeys(tx, [claim], this.config.idempotencyKeyTtlMs);
        if (!claimed.has(keyScope(claim))) {
          replayedOrderId((await this.repo.findIdempotencyKeys(tx, [claim])).get(keyScope(claim)), claim);
          replayed = true;
          return;
        }
      }
      await start(tx, enqueue, order);
    }).catch((err: unknown) => {
      stopWaiting.abort();
      throw err;
    });
    if (replayed) {
      stopWaiting.abort();
      o.onReplay?.();
      return this.awaitEarlier(orderId, waitMs, operation);
    }
    await outcome;
    return this.outcomeOf(orderId, operation);
  }

  /** Removes up to `limit` expired idempotency keys (called by a periodic round); returns how many. */
  expireIdempotencyKeys(limit = 1_000): Promise<number> {
    return this.repo.deleteExpiredIdempotencyKeys(this.db, limit);
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

  /**
   * Prices and writes a new order (with its saga's start event for `place`); returns its id, or under
   * a key already held for the same request, the id of that request's order (nothing is written).
   */
  private async insert(id: string, input: CreateOrderInput, operation: 'create' | 'place', o: OrderCallOptions): Promise<string> {
    const startSaga = operation === 'place';
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
    const key = o.idempotencyKey === undefined ? undefined : this.claimOf(o.idempotencyKey, input.customerId, operation, input, id);
    const result = await this.inserts.submit({ order, events: startSaga ? [this.paymentRequested(order, items, o.correlationId)] : [], key });
    return 'orderId' in result ? result.orderId : replayedOrderId(result.held, key!);
  }

  /**
   * Concurrent order creations share one transaction (group commit): one statement for their keys,
   * one for their rows, one for their events. A creation whose key is already held (by an earlier
   * request, a concurrent one, or an earlier one of this batch) writes nothing and gets the holder:
   * a repeated key never fails the other orders of the batch.
   */
  private writeOrders(batch: readonly PendingInsert[]): Promise<InsertResult[]> {
    return this.relay.transaction(async (tx, enqueue) => {
      const first = new Map<string, IdempotencyKeyClaim>();
      for (const b of batch) if (b.key && !first.has(keyScope(b.key))) first.set(keyScope(b.key), b.key);
      const claimed = await this.repo.claimIdempotencyKeys(tx, [...first.values()], this.config.idempotencyKeyTtlMs);
      const wins = (b: PendingInsert) => b.key === undefined || (claimed.has(keyScope(b.key)) && first.get(keyScope(b.key)) === b.key);
      const written = batch.filter(wins);
      if (written.length > 0) {
        this.repo.insertMany(tx, written.map((b) => b.order));
        await enqueue(written.flatMap((b) => b.events));
      }
      const repeats = batch.filter((b) => !wins(b)).map((b) => b.key!);
      const held = await this.repo.findIdempotencyKeys(tx, repeats);
      return batch.map((b) => (wins(b) ? { orderId: b.order.id } : { held: held.get(keyScope(b.key!)) }));
    });
  }

  private claimOf(key: string, customerId: string, operation: KeyedOperation, request: unknown, orderId: string): IdempotencyKeyClaim {
    return { customerId, key, operation, requestHash: requestFingerprint(operation, request), orderId };
  }

  private boundedWait(waitMs: number | undefined): number {
    return Math.min(waitMs ?? this.config.waitMs, this.config.waitMs);
  }

  /**
   * The outcome of a saga started by an earlier call (a repeat under its key): at once when it has
   * ended, else waited for at most `waitMs` like the first call.
   */
  private async awaitEarlier(orderId: string, waitMs: number, operation: 'place' | 'pay' | 'return'): Promise<SagaCallResult> {
    const stopWaiting = new AbortController();
    const outcome = this.waiter.register(orderId, waitMs, stopWaiting.signal);
    try {
      const status = (await this.details(orderId)).status;
      if (operation === 'return' ? status === 'RETURN_PENDING' : isPrePlaced(status)) await outcome;
    } finally {
      stopWaiting.abort();
    }
    return this.outcomeOf(orderId, operation);
  }

  /** What a saga-starting call answers: the return saga's outcome, or the place-order saga's. */
  private outcomeOf(orderId: string, operation: 'place' | 'pay' | 'return'): Promise<SagaCallResult> {
    return operation === 'return' ? this.returnOutcome(orderId) : this.outcome(orderId);
  }

  /** RETURNED: done; RETURN_PENDING: still running (202); anything else: the return failed, with its code. */
  private async returnOutcome(orderId: string): Promise<SagaCallResult> {
    const order = await this.details(orderId);
    if (order.status === 'RETURNED') return { done: true, order: orderView(order) };
    if (order.status === 'RETURN_PENDING') return { done: false, order: orderView(order) };
    const code = (order.failureCode as ErrorCode | null) ?? ErrorCode.Conflict;
    throw new AppError(code, order.statusInfo ?? `the return of order ${orderId} failed`, { order: orderView(order) });
  }

  /** The event that starts the return saga (a new saga id per return); the order is RETURN_PENDING in the same transaction. */
  private returnRequested(order: OrderRow, items: readonly OrderItemRow[], correlationId: string | undefined): OutgoingMessage {
    const returnId = `ret_${uuidv7()}`;
    const envelope = newEnvelope(
      'OrderReturnRequested',
      { orderId: order.id, returnId, customerId: order.customerId, items: [...items], amountCents: order.amountCents, currency: order.currency },
      // key = saga id (the return's): its messages stay in order
      { sagaId: returnId, correlationId: correlationId ?? returnId },
    );
    return toTopic(TOPICS.orderEvents, envelope);
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
    // Past PLACED (ON_WAY, DELIVERED: a repeat of an old call) the saga is as done as at PLACED.
    return { done: !isPrePlaced(order.status), order: orderView(order) };
  }

  private async view(orderId: string): Promise<OrderView> {
    return orderView(await this.details(orderId));
  }
}
