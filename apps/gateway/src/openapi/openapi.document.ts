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
/** Keyset paging (nest-kit's paging.ts): `limit` and the `cursor` of the previous page's `nextCursor`. */
const cursorPage = [
  queryParam('limit', { type: 'integer', minimum: 1, maximum: 200, default: 50 }),
  queryParam('cursor', { type: 'string', pattern: '^[A-Za-z0-9_-]{1,400}$' }, false, 'the `nextCursor` of the previous page (or follow the `Link` header)'),
  queryParam('sort', { type: 'string', enum: ['asc', 'desc'], default: 'asc' }, false, 'asc: oldest first (rows added while paging come on later pages); desc: newest first'),
];
/** A keyset page of `item`, with the next page also in `Link: <…>; rel="next"` (RFC 8288). */
const cursorPageOf = (description: string, item: Json): Json => ({
  description,
  headers: { link: { description: 'the next page: `<url>; rel="next"` (absent on the last page)', schema: { type: 'string' } } },
  content: json({
    type: 'object',
    required: ['items', 'limit', 'nextCursor'],
    properties: { items: { type: 'array', items: item }, limit: { type: 'integer' }, nextCursor: { type: ['string', 'null'], description: 'cursor of the next page; null on the last' } },
  }),
});
const orderId = pathParam('id', 'order id');
const customerId = pathParam('customerId', 'customer id, e.g. CUS_0001');

const Money = fromZod(MoneySchema.describe('decimal amount with at most two decimal places'));
const ORDER_STATUSES = ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE', 'PLACED', 'ON_WAY', 'DELIVERED', 'FAILED', 'CANCELED'];

const schemas: Record<string, Json> = {
  Error: {
    type: 'object',
    required: ['code', 'message'],
    properties: { code: { type: 'string', enum: Object.values(ErrorCode) }, message: { type: 'string' } },
    additionalProperties: true,
    example: { code: 'OUT_OF_STOCK', message: 'P001 is not available' },
  },
  Login: fromZod(LoginSchema),
  DeadLetter: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      originalTopic: { type: 'string' },
      dlqTopic: { type: 'string' },
      key: { type: 'string' },
      messageId: { type: ['string', 'null'] },
      messageType: { type: ['string', 'null'] },
      sagaId: { type: ['string', 'null'] },
      reason: { type: 'string', enum: ['malformed', 'poison', 'failed', 'unknown'] },
      error: { type: 'string' },
      receivedAt: { type: 'string', format: 'date-time' },
      replayedAt: { type: ['string', 'null'], format: 'date-time' },
      replayMessageId: { type: ['string', 'null'] },
    },
  },
  LoginResult: {
    type: 'object',
    required: ['token', 'role', 'sub'],
    properties: { token: { type: 'string', description: 'JWT, sent as `Authorization: Bearer <token>`' }, role: { type: 'string', enum: ['customer', 'operator'] }, sub: { type: 'string' } },
  },
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
  StatusHistoryEntry: {
    type: 'object',
    required: ['status', 'at'],
    properties: { status: ref('OrderStatus'), statusInfo: { type: ['string', 'null'] }, at: { type: 'string', format: 'date-time' } },
  },
  Order: {
    type: 'object',
    required: ['id', 'customerId', 'status', 'totalPrice', 'currency', 'orderItems', 'statusHistory'],
    properties: {
      id: { type: 'string' },
      customerId: { type: 'string' },
      status: ref('OrderStatus'),
      statusInfo: { type: ['string', 'null'] },
      totalPrice: ref('Money'),
      currency: { type: 'string' },
      orderItems: {
        type: 'array',
        items: {
          type: 'object',
          properties: { productId: { type: 'string' }, quantity: { type: 'integer' }, unitPrice: ref('Money'), totalPrice: ref('Money') },
        },
      },
      statusHistory: { type: 'array', items: ref('StatusHistoryEntry') },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  PendingOrder: {
    allOf: [ref('Order'), { type: 'object', properties: { url: { type: 'string', description: 'where to follow the order' } } }],
  },
  Product: {
    type: 'object',
    properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, price: ref('Money'), available: { type: 'integer' } },
  },
  Wallet: { type: 'object', properties: { customerId: { type: 'string' }, balance: ref('Money'), currency: { type: 'string' } } },
  WalletTransaction: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      type: { type: 'string' },
      amount: ref('Money'),
      currency: { type: 'string' },
      description: { type: ['string', 'null'] },
      reference: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
  MoveMoney: {
    type: 'object',
    additionalProperties: false,
    required: ['amount'],
    properties: { amount: { ...ref('Money'), exclusiveMinimum: 0, maximum: 1_000_000 }, currency: ref('Currency'), description: { type: 'string', minLength: 1, maxLength: 200 } },
    example: { amount: 25.5 },
  },
  Payment: {
    type: 'object',
    properties: {
      paymentId: { type: 'string' },
      type: { type: 'string' },
      status: { type: 'string' },
      amount: ref('Money'),
      currency: { type: 'string' },
      description: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
  Saga: { type: 'object', description: 'a saga instance with its steps (operator view)', additionalProperties: true },
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
      parameters: [PREFER],
      requestBody: body(ref('CreateOrder')),
      responses: {
        '201': ok('the order, PLACED', ref('Order')),
        '202': ok('saga still running', ref('PendingOrder')),
        '400': err('VALIDATION_FAILED'),
        '403': err('FORBIDDEN: a customer token ordering for another customer'),
        '404': err('UNKNOWN_PRODUCT, UNKNOWN_CUSTOMER (nothing is written)'),
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
      requestBody: body(ref('CreateOrder')),
      responses: {
        '201': ok('the order', ref('Order')),
        '400': err('VALIDATION_FAILED'),
        '403': err('FORBIDDEN: a customer token ordering for another customer'),
        '404': err('UNKNOWN_PRODUCT, UNKNOWN_CUSTOMER (nothing is written)'),
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
      responses: { '200': cursorPageOf('a page of orders', ref('Order')), '400': err('VALIDATION_FAILED'), '403': err('FORBIDDEN'), ...COMMON },
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
      parameters: [orderId, PREFER],
      responses: { '200': ok('the order, PLACED', ref('Order')), '202': ok('saga still running', ref('PendingOrder')), '404': err('NOT_FOUND'), ...SAGA_FAILURES, ...COMMON },
    },
  },
  '/api/payment': {
    post: {
      tags: ['orders'],
      summary: 'alias of POST /api/orders/{id}/payment (Tiny-Saga UI)',
      parameters: [PREFER],
      requestBody: body(ref('PayOrder')),
      responses: { '200': ok('the order, PLACED', ref('Order')), '202': ok('saga still running', ref('PendingOrder')), '400': err('VALIDATION_FAILED'), '404': err('NOT_FOUND'), ...SAGA_FAILURES, ...COMMON },
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
        'First an event with the current status, then one per status change; the stream ends after PLACED, FAILED, CANCELED or DELIVERED. ' +
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
      responses: { '200': ok('wallet and transaction', ref('Wallet')), '400': err('VALIDATION_FAILED'), '404': err('NOT_FOUND'), ...COMMON },
    },
  },
  '/api/wallets/{customerId}/withdraw': {
    post: {
      tags: ['wallets'],
      summary: 'withdraw',
      parameters: [customerId],
      requestBody: body(ref('MoveMoney')),
      responses: { '200': ok('wallet and transaction', ref('Wallet')), '400': err('VALIDATION_FAILED'), '404': err('NOT_FOUND'), '409': err('INSUFFICIENT_FUNDS'), ...COMMON },
    },
  },
  '/api/wallets/{customerId}/transactions': {
    get: {
      tags: ['wallets'],
      summary: 'wallet transactions by id, keyset-paged: oldest first, or newest first with sort=desc',
      parameters: [customerId, ...cursorPage],
      responses: { '200': cursorPageOf('a page of transactions', ref('WalletTransaction')), '400': err('VALIDATION_FAILED'), '404': err('NOT_FOUND'), ...COMMON },
    },
  },
  '/api/payments': {
    get: {
      tags: ['payments'],
      summary: 'payment ledger rows of an order by id, keyset-paged: oldest first, or newest first with sort=desc',
      parameters: [queryParam('orderId', { type: 'string' }, true), ...cursorPage],
      responses: { '200': cursorPageOf('a page of ledger rows', ref('Payment')), '400': err('VALIDATION_FAILED'), '403': err('FORBIDDEN'), ...COMMON },
    },
  },
  '/api/sagas': {
    get: {
      tags: ['operator'],
      summary: 'operator: saga instances by creation, keyset-paged (sort=desc: newest first)',
      parameters: [
        queryParam('status', { type: 'string' }),
        queryParam('type', { type: 'string' }),
        queryParam('minAgeSeconds', { type: 'number', minimum: 0 }, false, 'created at least this long ago (e.g. stuck RUNNING sagas)'),
        queryParam('maxAgeSeconds', { type: 'number', minimum: 0 }, false, 'created at most this long ago'),
        ...cursorPage,
      ],
      responses: { '200': cursorPageOf('a page of sagas', ref('Saga')), '400': err('VALIDATION_FAILED'), '403': err('FORBIDDEN'), ...COMMON },
    },
  },
  '/api/sagas/{id}': {
    get: { tags: ['operator'], summary: 'operator: one saga with its step timeline', parameters: [pathParam('id', 'saga id (= order id)')], responses: { '200': ok('saga', ref('Saga')), '403': err('FORBIDDEN'), '404': err('NOT_FOUND'), ...COMMON } },
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
      responses: { '200': ok('one bucket per second, oldest first', { type: 'object', properties: { seconds: { type: 'integer' }, buckets: { type: 'array', items: { type: 'object' } } } }), '403': err('FORBIDDEN'), ...COMMON },
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
      responses: { '200': cursorPageOf('a page of dead letters, with `total` and `pending` (not replayed) counts', ref('DeadLetter')), '400': err('VALIDATION_FAILED'), '403': err('FORBIDDEN'), ...COMMON },
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
