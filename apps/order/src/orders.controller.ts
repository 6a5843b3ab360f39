import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { IDEMPOTENCY_KEY_HEADER, setNextLink, parseWith, type Page } from '@saga/nest-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CreateOrderSchema, ListOrdersQuery, PayOrderSchema, UpdateStatusSchema } from './create-order.dto';
import { IDEMPOTENT_REPLAYED_HEADER, parseIdempotencyKey } from './idempotency-key';
import { OrderEventStreams } from './order-events.stream';
import { OrderService, type OrderCallOptions, type SagaCallResult } from './order.service';
import { preferredWait } from './prefer-wait';
import type { OrderView } from './order.view';

/** Orders API of DESIGN §3 (served under the same paths the gateway routes by prefix). */
@Controller()
export class OrdersController {
  constructor(
    private readonly orders: OrderService,
    private readonly events: OrderEventStreams,
  ) {}

  /** Seed one-call flow: create and run the saga, 201 with the PLACED order. */
  @Post('orders')
  async placeOrder(
    @Body() body: unknown,
    @Headers('x-request-id') requestId: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const call = keyed(idempotencyKey, requestId, res);
    const input = parseWith(CreateOrderSchema, body);
    return answer(await this.orders.place(input, { ...call, waitMs: this.wait(prefer, res) }), res, 201);
  }

  @Post('api/orders')
  @HttpCode(201)
  create(
    @Body() body: unknown,
    @Headers('x-request-id') requestId: string | undefined,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<OrderView> {
    const call = keyed(idempotencyKey, requestId, res);
    return this.orders.create(parseWith(CreateOrderSchema, body), call);
  }

  /** A page of a customer's orders; `Link: <…>; rel="next"` while there are more. */
  @Get('api/orders')
  async list(@Query() query: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply): Promise<Page<OrderView>> {
    const page = await this.orders.listByCustomer(parseWith(ListOrdersQuery, query, 'query'));
    setNextLink(req, res, page);
    return page;
  }

  @Get('api/orders/:id')
  get(@Param('id') id: string): Promise<OrderView> {
    return this.orders.get(id);
  }

  @Get('api/orders/:id/history')
  async history(@Param('id') id: string) {
    return (await this.orders.get(id)).statusHistory;
  }

  /** Server-Sent Events of the order's status until a terminal status (404 JSON for an unknown order). */
  @Get('api/orders/:id/events')
  streamEvents(
    @Param('id') id: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: FastifyReply,
  ): Promise<void> {
    return this.events.stream(id, lastEventId, res);
  }

  @Post('api/orders/:id/payment')
  async pay(
    @Param('id') id: string,
    @Headers('x-request-id') requestId: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const call = keyed(idempotencyKey, requestId, res);
    return answer(await this.orders.pay(id, { ...call, waitMs: this.wait(prefer, res) }), res, 200);
  }

  /** Alias of the Tiny-Saga UI: `POST /api/payment {orderId}`. */
  @Post('api/payment')
  async payAlias(
    @Body() body: unknown,
    @Headers('x-request-id') requestId: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const call = keyed(idempotencyKey, requestId, res);
    const { orderId } = parseWith(PayOrderSchema, body);
    return answer(await this.orders.pay(orderId, { ...call, waitMs: this.wait(prefer, res) }), res, 200);
  }

  /** Returns a PLACED order (the return saga: refund, restock, RETURNED); waits for it like the payment. */
  @Post('api/orders/:id/return')
  async returnOrder(
    @Param('id') id: string,
    @Headers('x-request-id') requestId: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const call = keyed(idempotencyKey, requestId, res);
    return answer(await this.orders.returnOrder(id, { ...call, waitMs: this.wait(prefer, res) }), res, 200);
  }

  /** The wait a saga-starting call asked for with `Prefer` (bounded by ORDER_WAIT_MS), echoed as applied. */
  private wait(prefer: string | undefined, res: FastifyReply): number {
    const { waitMs, applied } = preferredWait(prefer, this.orders.maxWaitMs);
    if (applied !== undefined) res.header('preference-applied', applied);
    return waitMs;
  }

  @Post('api/orders/:id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string): Promise<OrderView> {
    return this.orders.cancel(id);
  }

  @Patch('api/orders/:id/status')
  updateStatus(@Param('id') id: string, @Body() body: unknown): Promise<OrderView> {
    return this.orders.updateStatus(id, parseWith(UpdateStatusSchema, body).status);
  }
}

/**
 * The options of a call with its Idempotency-Key (validated: 400 naming the header), which is echoed;
 * an answer given for an earlier request with the key says so in `Idempotent-Replayed: true`.
 */
function keyed(header: string | undefined, requestId: string | undefined, res: FastifyReply): OrderCallOptions {
  const idempotencyKey = parseIdempotencyKey(header);
  if (idempotencyKey === undefined) return { correlationId: requestId };
  res.header(IDEMPOTENCY_KEY_HEADER, header);
  return { correlationId: requestId, idempotencyKey, onReplay: () => res.header(IDEMPOTENT_REPLAYED_HEADER, 'true') };
}

/** A finished saga answers `doneStatus`; one still running answers 202 with where to look. */
function answer(result: SagaCallResult, res: FastifyReply, doneStatus: number) {
  if (result.done) {
    res.status(doneStatus);
    return result.order;
  }
  res.status(202);
  res.header('location', `/api/orders/${result.order.id}`);
  return { ...result.order, url: `/api/orders/${result.order.id}` };
}
