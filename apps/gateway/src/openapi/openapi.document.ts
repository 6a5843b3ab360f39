import { CurrencySchema, ErrorCode, MoneySchema } from '@saga/contracts';
import { z } from 'zod';
import { LoginSchema } from '../auth.controller';

type Json = Record<string, unknown>;

/** JSON Schema of a zod schema, as an OpenAPI 3.1 schema object (zod 4's own converter). */
function fromZod(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ 'application/json': { schema } });
const ok = (description: string, schema: Json): Json => ({ description, content: json(schema) });
const err = (description: string): Json => ({ description, content: json(ref('Error')) });
const body = (schema: Json): Json => ({ required: true, content: json(schema) });
const pathParam = (name: string, description: string): Json => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });
const queryParam = (name: string, schema: Json, required = false, description?: string): Json => ({
  name,
  in: 'query',
  required,
  schema,
  ...(description ? { description } : {}),
});
/**
 * An object answered by a service: every property listed is always present (nullable ones as `null`),
 * none other is, so generated types need no `?` and a response with an undocumented field fails the
 * e2e schema checks.
 */
const closed = (properties: Record<string, Json>, extra: Json = {}): Json => ({
  type: 'object',
  required: Object.keys(properties),
  properties,
  additionalProperties: false,
  ...extra,
});
const nullable = (type: string, extra: Json = {}): Json => ({ type: [type, 'null'], ...extra });
const dateTime: Json = { type: 'string', format: 'date-time' };
const count: Json = { type: 'integer', minimum: 0 };
/** Keyset paging (nest-kit's paging.ts): `limit` and the `cursor` of the previous page's `nextCursor`. */
const cursorPage = [
  queryParam('limit', { type: 'integer', minimum: 1, maximum: 200, default: 50 }),
  queryParam('cursor', { type: 'string', pattern: '^[A-Za-z0-9_-]{1,400}$' }, false, 'the `nextCursor` of the previous page (or follow the `Link` header)'),
  queryParam('sort', { type: 'string', enum: ['asc', 'desc'], default: 'asc' }, false, 'asc: oldest first (rows added while paging come on later pages); desc: newest first'),
];
/** The body of a keyset page of `item` (nest-kit's `pageOf`), plus any `extra` properties of the list. */
const pageOf = (item: Json, extra: Record<string, Json> = {}): Json =>
  closed({
    items: { type: 'array', items: item },
    limit: { type: 'integer', minimum: 1 },
    nextCursor: { type: ['string', 'null'], description: 'cursor of the next page; null on the last' },
    ...extra,
  });
/** A keyset page (a `*Page` schema), with the next page also in `Link: <…>; rel="next"` (RFC 8288). */
const cursorPageOf = (description: string, page: Json): Json => ({
  description,
  headers: { link: { description: 'the next page: `<url>; rel="next"` (absent on the last page)', schema: { type: 'string' } } },
  content: json(page),
});
const orderId = pathParam('id', 'order id');
const customerId = pathParam('customerId', 'customer id, e.g. CUS_0001');

const Money = fromZod(MoneySchema.describe('decimal amount with at most two decimal places'));
const ORDER_STATUSES = ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE', 'PLACED', 'ON_WAY', 'DELIVERED', 'FAILED', 'CANCELED', 'RETURN_PENDING', 'RETURNED'];
// The orchestrator's words (packages/saga SagaStatus and HistoryEvent, the orchestrator's StepState),
// written out here because the gateway depends on no service; the e2e schema checks hold them to it.
const SAGA_STATUSES = ['RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED'];
const STEP_STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'COMPENSATING', 'COMPENSATED', 'COMPENSATION_FAILED'];
const HISTORY_EVENTS = [
  'STARTED', 'COMMAND_SENT', 'REPLY', 'TIMEOUT', 'RETRY_SCHEDULED', 'RETRY', 'STEP_FAILED', 'COMPENSATION_SENT', 'COMPENSATION_REPLY',
  'COMPENSATION_TIMEOUT', 'COMPENSATION_RETRY', 'COMPENSATION_FAILED', 'OPERATOR_RETRY', 'OPERATOR_CANCEL', 'COMPLETED', 'COMPENSATED',
];

const ORDER = {
  id: { type: 'string' },
  customerId: { type: 'string' },
  status: ref('OrderStatus'),
  statusInfo: nullable('string', { description: 'why the order is in its status, e.g. the failure of a FAILED one' }),
  totalPrice: ref('Money'),
  currency: { type: 'string' },
  orderItems: {
    type: 'array',
    items: closed({ productId: { type: 'string' }, quantity: { type: 'integer', minimum: 1 }, unitPrice: ref('Money'), totalPrice: ref('Money') }),
  },
  statusHistory: { type: 'array', items: ref('StatusHistoryEntry') },
  createdAt: dateTime,
  updatedAt: dateTime,
};
const WALLET = { customerId: { type: 'string' }, balance: ref('Money'), currency: { type: 'string' } };
const SAGA = {
  id: { type: 'string', description: 'saga id (= order id)' },
  type: { type: 'string', description: 'saga definition, e.g. PlaceOrder' },
  definitionVersion: { type: 'integer', minimum: 1, description: 'the version of its definition the saga started on and runs on' },
  versionMissing: { type: 'boolean', description: 'unfinished, and its definition version is not registered: it waits (replies kept) until the version is registered again' },
  status: ref('SagaStatus'),
  currentStep: { type: 'string', description: 'the step whose command or compensation was sent last' },
  attempt: { type: 'integer', minimum: 0, description: 'send count of the current command or compensation' },
  failure: { ...nullable('object'), required: ['code', 'reason', 'step'], properties: { code: { type: 'string' }, reason: { type: 'string' }, step: { type: 'string' } }, additionalProperties: false },
  deadlineAt: nullable('string', { format: 'date-time', description: 'the durable timer; null when nothing is awaited' }),
  version: { type: 'integer', minimum: 1 },
  data: { description: "the saga's data, as its definition shapes it" },
  createdAt: dateTime,
  updatedAt: dateTime,
};

const schemas: Record<string, Json> = {
  Error: {
    type: 'object',
    required: ['code', 'message'],
    properties: { code: { type: 'string', enum: Object.values(ErrorCode) }, message: { type: 'string' } },
    additionalProperties: true,
    example: { code: 'OUT_OF_STOCK', message: 'P001 is not available' },
  },
  Login: fromZod(LoginSchema),
  LoginResult: closed({
    token: { type: 'string', description: 'JWT, sent as `Authorization: Bearer <token>`' },
    role: { type: 'string', enum: ['customer', 'operator'] },
    sub: { type: 'string', description: 'the customer id of a customer, `operator` for the operator' },
  }),
  Money,
  Currency: fromZod(CurrencySchema),
  CreateOrder: {
    type: 'object',
    additionalProperties: false,
    required: ['customerId', 'orderItems'],
    properties: {
      customerId: { type: 'string', minLength: 1, maxLength: 64 },
      orderItems: {
        type: 'array',
        minItems: 1,
        maxItems: 50,
        description: 'each product may appear once',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['productId', 'quantity'],
          properties: {
            productId: { type: 'string', minLength: 1, maxLength: 64 },
            quantity: { type: 'integer', minimum: 1, maximum: 1000 },
            totalPrice: { ...ref('Money'), description: 'optional client total of the line; must agree with the catalog' },
          },
        },
      },
    },
    example: { customerId: 'CUS_0001', orderItems: [{ productId: 'P001', quantity: 1, totalPrice: 999.99 }] },
  },
  PayOrder: { type: 'object', additionalProperties: false, required: ['orderId'], properties: { orderId: { type: 'string', minLength: 1, maxLength: 64 } } },
  UpdateStatus: { type: 'object', additionalProperties: false, required: ['status'], properties: { status: { type: 'string', enum: ['ON_WAY', 'DELIVERED'] } } },
  OrderStatus: { type: 'string', enum: ORDER_STATUSES },
  StatusHistoryEntry: closed({ status: ref('OrderStatus'), statusInfo: nullable('string'), at: dateTime }),
  Order: closed(ORDER),
  PendingOrder: closed({ ...ORDER, url: { type: 'string', description: 'where to follow the order (also in `Location`)' } }, { description: 'an order whose saga still runs (202)' }),
  OrderPage: pageOf(ref('Order')),
  Product: closed({
    id: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    price: ref('Money'),
    available: { ...count, description: 'stock that can still be bought' },
  }),
  Wallet: closed(WALLET),
  WalletTransaction: closed({
    id: { type: 'string' },
    type: { type: 'string', enum: ['DEPOSIT', 'WITHDRAWAL', 'DEBIT', 'REFUND'], description: 'a payment is a DEBIT, its compensation a REFUND' },
    amount: ref('Money'),
    currency: { type: 'string' },
    description: nullable('string'),
    reference: nullable('string', { description: 'the payment of a DEBIT or REFUND' }),
    createdAt: dateTime,
  }),
  WalletTransactionPage: pageOf(ref('WalletTransaction')),
  WalletMove: closed({ ...WALLET, transaction: ref('WalletTransaction') }, { description: 'the wallet after a deposit or withdrawal, with its transaction' }),
  MoveMoney: {
    type: 'object',
    additionalProperties: false,
    required: ['amount'],
    properties: { amount: { ...ref('Money'), exclusiveMinimum: 0, maximum: 1_000_000 }, currency: ref('Currency'), description: { type: 'string', minLength: 1, maxLength: 200 } },
    example: { amount: 25.5 },
  },
  Payment: closed({
    paymentId: { type: 'string' },
    type: { type: 'string', enum: ['PAYMENT', 'REFUND'] },
    status: { type: 'string', enum: ['PENDING', 'COMPLETED', 'FAILED'] },
    amount: ref('Money'),
    currency: { type: 'string' },
    description: { type: 'string' },
    createdAt: dateTime,
  }),
  PaymentPage: pageOf(ref('Payment')),
  SagaStatus: { type: 'string', enum: SAGA_STATUSES },
  Saga: closed(SAGA, { description: 'a saga instance (operator view)' }),
  SagaPage: pageOf(ref('Saga')),
  StepState: { type: 'string', enum: STEP_STATES },
  SagaStep: closed(
    {
      name: { type: 'string' },
      state: ref('StepState'),
      attempts: { ...count, description: 'sends of the step command' },
      startedAt: nullable('string', { format: 'date-time' }),
      finishedAt: nullable('string', { format: 'date-time' }),
      durationMs: nullable('integer', { minimum: 0 }),
      compensationAttempts: count,
    },
    { description: "one step of a saga's timeline, derived from its history" },
  ),
  SagaHistoryEvent: { type: 'string', enum: HISTORY_EVENTS },
  SagaHistoryEntry: closed({
    seq: { type: 'integer', minimum: 1 },
    at: dateTime,
    step: { type: 'string' },
    event: ref('SagaHistoryEvent'),
    detail: { type: 'object', additionalProperties: true, description: 'what the event carries, e.g. `{type, messageId, attempt}` of a COMMAND_SENT' },
  }),
  SagaDetails: closed(
    {
      ...SAGA,
      parkedEvents: { type: 'integer', minimum: 0, description: 'events kept for the saga while its definition version is missing' },
      steps: { type: 'array', items: ref('SagaStep') },
      history: { type: 'array', items: ref('SagaHistoryEntry') },
    },
    { description: 'a saga instance with its step timeline and history' },
  ),
  OutcomeBucket: closed({ at: dateTime, COMPLETED: count, COMPENSATED: count, COMPENSATION_FAILED: count }, { description: 'sagas that ended in one second, by outcome' }),
  SagaStats: closed({ seconds: { type: 'integer', minimum: 1 }, buckets: { type: 'array', items: ref('OutcomeBucket'), description: 'one per second, oldest first, zeros included' } }),
  DeadLetter: closed({
    id: { type: 'string', pattern: '^[1-9][0-9]*$' },
    dlqTopic: { type: 'string' },
    dlqPartition: count,
    dlqOffset: { type: 'string', pattern: '^[0-9]+$' },
    originalTopic: { type: 'string' },
    key: { type: 'string' },
    messageId: nullable('string'),
    messageType: nullable('string'),
    sagaId: nullable('string'),
    reason: { type: 'string', enum: ['malformed', 'poison', 'failed', 'unknown'] },
    error: { type: 'string' },
    consumerGroup: nullable('string'),
    failedAt: nullable('string', { format: 'date-time' }),
    envelope: {
      type: 'object',
      additionalProperties: true,
      properties: { payload: { description: 'the message body (the text of one that was not JSON)' } },
      description: "the original message's envelope as received (a malformed one may lack fields)",
    },
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'its other Kafka headers, `dlq-*` included' },
    receivedAt: dateTime,
    replayedAt: nullable('string', { format: 'date-time' }),
    replayMessageId: nullable('string'),
  }),
  DeadLetterPage: pageOf(ref('DeadLetter'), { total: { ...count, description: 'dead letters in all' }, pending: { ...count, description: 'not replayed yet' } }),
};

const SAGA_FAILURES = {
  '402': err('INSUFFICIENT_FUNDS'),
  '409': err('OUT_OF_STOCK, ORDER_NOT_PAYABLE'),
  '503': err('WALLET_UNAVAILABLE, UNAVAILABLE (a service is down), or OVERLOADED (admission queue full; with Retry-After)'),
};
const COMMON = { '429': err('RATE_LIMITED (with Retry-After)') };
/** RFC 7240 `Prefer` of a saga-starting call: how long to wait for the outcome before a 202. */
const PREFER = {
  name: 'prefer',
  in: 'header',
  required: false,
  description: '`respond-async` answers 202 at once; `wait=N` waits at most N seconds (never more than ORDER_WAIT_MS); echoed in Preference-Applied',
  schema: { type: 'string', examples: ['respond-async', 'wait=2'] },
};
/** `Idempotency-Key` (IETF draft) of a call that creates an order or starts its saga. */
const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    "1–255 printable ASCII characters (a Structured Field string, `\"…\"`, or bare), scoped to the order's customer and kept IDEMPOTENCY_KEY_TTL_MS (24 h). " +
    "A repeat of the same request (same body) makes no new order and starts no second saga: it gets the first request's order, waited for like the first " +
    '(`Prefer` applies), marked `Idempotent-Replayed: true`; the same key with another request is a 422. Without one the gateway sets a UUID. Echoed in the response.',
  schema: { type: 'string', minLength: 1, maxLength: 255, examples: ['8e03978e-40d5-43e8-bc93-6894a57f9324'] },
};
const KEY_REUSED = { '422': err('IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was first used with another request (body or call); `field` names the header') };

const paths: Record<string, Json> = {
  '/health': {
    get: {
      tags: ['system'],
      summary: 'readiness of the gateway (every upstream answers)',
      security: [],
      responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
    },
  },
  '/api/auth/login': {
    post: {
      tags: ['auth'],
      summary: 'token for a seeded customer or the operator',
      security: [],
      requestBody: body(ref('Login')),
      responses: { '200': ok('token', ref('LoginResult')), '400': err('VALIDATION_FAILED'), '401': err('UNAUTHORIZED'), ...COMMON },
    },
  },
  '/orders': {
    post: {
      tags: ['orders'],
      summary: 'seed one-call flow: create the order and run the saga',
      description: 'With AUTH_MODE=demo this call also works without a token, acting as the customer of its body.',
      parameters: [PREFER, IDEMPOTENCY_KEY],
      requestBody: body(ref('CreateOrder')),
      responses: {
        '201': ok('the order, PLACED', ref('Order')),
        '202': ok('saga still running', ref('PendingOrder')),
        '400': err('VALIDATION_FAILED'),
        '403': err('FORBIDDEN: a customer token ordering for another customer'),
        '404': err('UNKNOWN_PRODUCT, UNKNOWN_CUSTOMER (nothing is written)'),
        ...KEY_REUSED,
        ...SAGA_FAILURES,
        ...COMMON,
      },
    },
  },
  '/api/products': {
    get: { tags: ['catalog'], summary: 'catalog with available stock', security: [], responses: { '200': ok('products', { type: 'array', items: ref('Product') }), ...COMMON } },
  },
  '/api/products/{id}': {
    get: {
      tags: ['catalog'],
      summary: 'one product',
      security: [],
      parameters: [pathParam('id', 'product id, e.g. P001')],
      responses: { '200': ok('product', ref('Product')), '404': err('NOT_FOUND'), ...COMMON },
    },
  },
  '/api/orders': {
    post: {
      tags: ['orders'],
      summary: 'create an order, status INITIATED (no saga yet)',
      parameters: [IDEMPOTENCY_KEY],
      requestBody: body(ref('CreateOrder')),
      responses: {
        '201': ok('the order', ref('Order')),
        '400': err('VALIDATION_FAILED'),
        '403': err('FORBIDDEN: a customer token ordering for another customer'),
        '404': err('UNKNOWN_PRODUCT, UNKNOWN_CUSTOMER (nothing is written)'),
        ...KEY_REUSED,
        ...COMMON,
      },
    },
    get: {
      tags: ['orders'],
      summary: "a customer's orders by creation, keyset-paged: oldest first (orders created while paging come on later pages), or newest first with sort=desc",
      parameters: [
        queryParam('customerId', { type: 'string' }, true),
        ...cursorPage,
      ],
      responses: { '200': cursorPageOf('a page of orders', ref('OrderPage')), '400': err('VALIDATION_FAILED'), '403': err('FORBIDDEN'), ...COMMON },
    },
  },
  '/api/orders/{id}': {
    get: { tags: ['orders'], summary: 'order with items, status, status info, history', parameters: [orderId], responses: { '200': ok('order', ref('Order')), '404': err('NOT_FOUND'), ...COMMON } },
  },
  '/api/orders/{id}/history': {
    get: {
      tags: ['orders'],
      summary: 'status history of an order',
      parameters: [orderId],
      responses: { '200': ok('history', { type: 'array', items: ref('StatusHistoryEntry') }), '404': err('NOT_FOUND'), ...COMMON },
    },
  },
  '/api/orders/{id}/payment': {
    post: {
      tags: ['orders'],
      summary: 'pay an INITIATED order: runs the saga and waits a bounded time',
      parameters: [orderId, PREFER, IDEMPOTENCY_KEY],
      responses: {
        '200': ok('the order, PLACED', ref('Order')),
        '202': ok('saga still running', ref('PendingOrder')),
        '400': err('VALIDATION_FAILED (a malformed Idempotency-Key)'),
        '404': err('NOT_FOUND'),
        ...KEY_REUSED,
        ...SAGA_FAILURES,
        ...COMMON,
      },
    },
  },
  '/api/payment': {
    post: {
      tags: ['orders'],
      summary: 'alias of POST /api/orders/{id}/payment (Tiny-Saga UI)',
      parameters: [PREFER, IDEMPOTENCY_KEY],
      requestBody: body(ref('PayOrder')),
      responses: {
        '200': ok('the order, PLACED', ref('Order')),
        '202': ok('saga still running', ref('PendingOrder')),
        '400': err('VALIDATION_FAILED'),
        '404': err('NOT_FOUND'),
        ...KEY_REUSED,
        ...SAGA_FAILURES,
        ...COMMON,
      },
    },
  },
  '/api/orders/{id}/return': {
    post: {
      tags: ['orders'],
      summary: 'return a PLACED order: runs the return saga (refund, restock, RETURNED) and waits a bounded time',
      description:
        'The order is RETURN_PENDING at once. A refused refund (NOT_REFUNDABLE) or a wallet that stayed down through the payment service\'s retries ' +
        '(WALLET_UNAVAILABLE) puts it back to PLACED with the reason as status info. A customer may return only their own orders.',
      parameters: [orderId, PREFER, IDEMPOTENCY_KEY],
      responses: {
        '200': ok('the order, RETURNED', ref('Order')),
        '202': ok('return saga still running', ref('PendingOrder')),
        '400': err('VALIDATION_FAILED (a malformed Idempotency-Key)'),
        '403': err('FORBIDDEN'),
        '404': err('NOT_FOUND'),
        '409': err('ORDER_NOT_RETURNABLE (the order is not PLACED), NOT_REFUNDABLE (its payment is not completed)'),
        ...KEY_REUSED,
        '503': err('WALLET_UNAVAILABLE (the refund could not reach the wallet; the order is PLACED again), UNAVAILABLE, or OVERLOADED (with Retry-After)'),
        ...COMMON,
      },
    },
  },
  '/api/orders/{id}/cancel': {
    post: { tags: ['orders'], summary: 'cancel before payment', parameters: [orderId], responses: { '200': ok('the order, CANCELED', ref('Order')), '404': err('NOT_FOUND'), '409': err('INVALID_TRANSITION'), ...COMMON } },
  },
  '/api/orders/{id}/status': {
    patch: {
      tags: ['operator'],
      summary: 'operator: move a PLACED order to ON_WAY, then DELIVERED',
      parameters: [orderId],
      requestBody: body(ref('UpdateStatus')),
      responses: { '200': ok('the order', ref('Order')), '403': err('FORBIDDEN'), '404': err('NOT_FOUND'), '409': err('INVALID_TRANSITION'), ...COMMON },
    },
  },
  '/api/orders/{id}/events': {
    get: {
      tags: ['orders'],
      summary: 'Server-Sent Events of the order status, ending after a terminal status',
      description:
        'First an event with the current status, then one per status change; the stream ends after PLACED, FAILED, CANCELED, DELIVERED or RETURNED. ' +
        'Each event: `id: <history row id>`, `event: status`, `data: {"orderId","status","statusInfo","at"}`. ' +
        'Send `Last-Event-ID` to resume after an event. Comment lines (`: heartbeat`) keep an idle stream open.',
      parameters: [orderId, { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '404': err('NOT_FOUND (before streaming)'),
        ...COMMON,
      },
    },
  },
  '/api/wallets/{customerId}': {
    get: { tags: ['wallets'], summary: 'wallet balance', parameters: [customerId], responses: { '200': ok('wallet', ref('Wallet')), '404': err('NOT_FOUND'), ...COMMON } },
  },
  '/api/wallets/{customerId}/deposit': {
    post: {
      tags: ['wallets'],
      summary: 'deposit',
      parameters: [customerId],
      requestBody: body(ref('MoveMoney')),
      responses: { '200': ok('wallet and transaction', ref('WalletMove')), '400': err('VALIDATION_FAILED'), '404': err('NOT_FOUND'), ...COMMON },
    },
  },
  '/api/wallets/{customerId}/withdraw': {
    post: {
      tags: ['wallets'],
      summary: 'withdraw',
      parameters: [customerId],
      requestBody: body(ref('MoveMoney')),
      responses: { '200': ok('wallet and transaction', ref('WalletMove')), '400': err('VALIDATION_FAILED'), '404': err('NOT_FOUND'), '409': err('INSUFFICIENT_FUNDS'), ...COMMON },
    },
  },
  '/api/wallets/{customerId}/transactions': {
    get: {
      tags: ['wallets'],
      summary: 'wallet transactions by id, keyset-paged: oldest first, or newest first with sort=desc',
      parameters: [customerId, ...cursorPage],
      responses: { '200': cursorPageOf('a page of transactions', ref('WalletTransactionPage')), '400': err('VALIDATION_FAILED'), '404': err('NOT_FOUND'), ...COMMON },
    },
  },
  '/api/payments': {
    get: {
      tags: ['payments'],
      summary: 'payment ledger rows of an order by id, keyset-paged: oldest first, or newest first with sort=desc',
      parameters: [queryParam('orderId', { type: 'string' }, true), ...cursorPage],
      responses: { '200': cursorPageOf('a page of ledger rows', ref('PaymentPage')), '400': err('VALIDATION_FAILED'), '403': err('FORBIDDEN'), ...COMMON },
    },
  },
  '/api/sagas': {
    get: {
      tags: ['operator'],
      summary: 'operator: saga instances by creation, keyset-paged (sort=desc: newest first)',
      parameters: [
        queryParam('status', ref('SagaStatus')),
        queryParam('type', { type: 'string' }),
        queryParam('minAgeSeconds', { type: 'number', minimum: 0 }, false, 'created at least this long ago (e.g. stuck RUNNING sagas)'),
        queryParam('maxAgeSeconds', { type: 'number', minimum: 0 }, false, 'created at most this long ago'),
        queryParam('versionMissing', { type: 'string', enum: ['true', 'false'] }, false, 'true: only the unfinished sagas whose definition version is not registered'),
        ...cursorPage,
      ],
      responses: { '200': cursorPageOf('a page of sagas', ref('SagaPage')), '400': err('VALIDATION_FAILED'), '403': err('FORBIDDEN'), ...COMMON },
    },
  },
  '/api/sagas/{id}': {
    get: { tags: ['operator'], summary: 'operator: one saga with its step timeline', parameters: [pathParam('id', 'saga id (= order id)')], responses: { '200': ok('saga', ref('SagaDetails')), '403': err('FORBIDDEN'), '404': err('NOT_FOUND'), ...COMMON } },
  },
  '/api/sagas/{id}/retry': {
    post: {
      tags: ['operator'],
      summary: 'operator: re-send a RUNNING saga\'s current step, or a COMPENSATION_FAILED saga\'s stuck compensation',
      parameters: [pathParam('id', 'saga id (= order id)')],
      responses: { '200': ok('saga', ref('Saga')), '403': err('FORBIDDEN'), '404': err('NOT_FOUND'), '409': err('CONFLICT'), ...COMMON },
    },
  },
  '/api/sagas/{id}/cancel': {
    post: {
      tags: ['operator'],
      summary: 'operator: cancel a RUNNING saga before its pivot; it compensates (the order ends FAILED with the reason)',
      parameters: [pathParam('id', 'saga id (= order id)')],
      requestBody: { required: false, content: json({ type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 } } }) },
      responses: { '200': ok('saga', ref('Saga')), '403': err('FORBIDDEN'), '404': err('NOT_FOUND'), '409': err('CONFLICT: not RUNNING, or past the pivot'), ...COMMON },
    },
  },
  '/api/sagas/stats': {
    get: {
      tags: ['operator'],
      summary: 'operator: sagas ended per second by outcome (COMPLETED, COMPENSATED, COMPENSATION_FAILED)',
      parameters: [queryParam('seconds', { type: 'integer', minimum: 1, maximum: 3600, default: 60 })],
      responses: { '200': ok('one bucket per second, oldest first', ref('SagaStats')), '403': err('FORBIDDEN'), ...COMMON },
    },
  },
  '/api/dead-letters': {
    get: {
      tags: ['operator'],
      summary: 'operator: messages of every *.dlq topic in the order received, keyset-paged (sort=desc: newest first), with the total and pending counts',
      parameters: [
        queryParam('topic', { type: 'string' }, false, 'original topic, e.g. inventory.commands'),
        queryParam('replayed', { type: 'boolean' }),
        queryParam('sagaId', { type: 'string' }),
        ...cursorPage,
      ],
      responses: { '200': cursorPageOf('a page of dead letters, with `total` and `pending` (not replayed) counts', ref('DeadLetterPage')), '400': err('VALIDATION_FAILED'), '403': err('FORBIDDEN'), ...COMMON },
    },
  },
  '/api/dead-letters/{id}': {
    get: { tags: ['operator'], summary: 'operator: one dead letter', parameters: [pathParam('id', 'dead letter id')], responses: { '200': ok('dead letter', ref('DeadLetter')), '403': err('FORBIDDEN'), '404': err('NOT_FOUND'), ...COMMON } },
  },
  '/api/dead-letters/{id}/replay': {
    post: {
      tags: ['operator'],
      summary: 'operator: republish the original message to its original topic (new message id, via the outbox); once',
      parameters: [pathParam('id', 'dead letter id')],
      responses: { '200': ok('the replayed dead letter', ref('DeadLetter')), '403': err('FORBIDDEN'), '404': err('NOT_FOUND'), '409': err('CONFLICT: already replayed'), ...COMMON },
    },
  },
};

/**
 * The OpenAPI 3.1 document of the gateway's public API (DESIGN §3, login and health), served at
 * `GET /api/openapi.json` and shown at `/api/docs`. Written by hand; request schemas of login, money
 * and currency come from their zod schemas.
 */
/**
 * The name of every operation, as generated clients call it (`client.placeOrder(...)`): every
 * operation of `paths` has one, which the document's lint test checks.
 */
const OPERATION_IDS: Record<string, string> = {
  'get /health': 'getHealth',
  'post /api/auth/login': 'login',
  'post /orders': 'placeOrder',
  'get /api/products': 'listProducts',
  'get /api/products/{id}': 'getProduct',
  'get /api/orders': 'listOrders',
  'post /api/orders': 'createOrder',
  'get /api/orders/{id}': 'getOrder',
  'get /api/orders/{id}/history': 'getOrderHistory',
  'post /api/orders/{id}/payment': 'payOrder',
  'post /api/payment': 'payOrderByBody',
  'post /api/orders/{id}/cancel': 'cancelOrder',
  'post /api/orders/{id}/return': 'returnOrder',
  'patch /api/orders/{id}/status': 'updateOrderStatus',
  'get /api/orders/{id}/events': 'streamOrderEvents',
  'get /api/wallets/{customerId}': 'getWallet',
  'post /api/wallets/{customerId}/deposit': 'deposit',
  'post /api/wallets/{customerId}/withdraw': 'withdraw',
  'get /api/wallets/{customerId}/transactions': 'listWalletTransactions',
  'get /api/payments': 'listPayments',
  'get /api/sagas': 'listSagas',
  'get /api/sagas/{id}': 'getSaga',
  'post /api/sagas/{id}/retry': 'retrySaga',
  'post /api/sagas/{id}/cancel': 'cancelSaga',
  'get /api/sagas/stats': 'getSagaStats',
  'get /api/dead-letters': 'listDeadLetters',
  'get /api/dead-letters/{id}': 'getDeadLetter',
  'post /api/dead-letters/{id}/replay': 'replayDeadLetter',
};

/** Every operation gets its operationId, and every one that needs a token (no `security: []`) its 401. */
function withOperationIds(all: Record<string, Record<string, Json>>): Record<string, Record<string, Json>> {
  const unauthorized = err('UNAUTHORIZED: no token, or an invalid or expired one');
  return Object.fromEntries(
    Object.entries(all).map(([path, ops]) => [
      path,
      Object.fromEntries(
        Object.entries(ops).map(([method, op]) => {
          const open = Array.isArray(op.security) && op.security.length === 0;
          const responses = open ? op.responses : { ...(op.responses as Json), '401': unauthorized };
          return [method, { operationId: OPERATION_IDS[`${method} ${path}`], ...op, responses }];
        }),
      ),
    ]),
  );
}

export function openApiDocument(serverUrl?: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Saga platform gateway',
      version: '0.1.0',
      description:
        'Place-order saga over Kafka and PostgreSQL. Errors are `{"code","message",...}`; money is a decimal with two places. ' +
        'Log in with `POST /api/auth/login` and send `Authorization: Bearer <token>` on every call but login, the catalog and health: ' +
        'without one the answer is 401 UNAUTHORIZED. A customer token acts only on its own orders, wallet and payments; the operator endpoints need the operator role. ' +
        'Only with AUTH_MODE=demo (the quick-start) does the seed `POST /orders` work without a token, acting as its body\'s customer.',
      license: { name: 'Proprietary: a private project, no license granted', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [serverUrl ? { url: serverUrl } : { url: '/', description: 'the gateway that serves this document' }],
    security: [{ bearer: [] }],
    paths: withOperationIds(paths as Record<string, Record<string, Json>>),
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
