import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isMessageType, parsePayload, TOPICS } from '@saga/contracts';
import { givenSaga, type SagaScenario } from '@saga/saga/testing';
import {
  DEFAULT_PLACE_ORDER_TIMINGS,
  placeOrderData,
  placeOrderSaga,
  type ContractMessages,
  type PlaceOrderData,
} from './place-order.saga';

const ORDER = '0193a000-0000-7000-8000-000000000001';
const ref = { orderId: ORDER };
const requested = {
  orderId: ORDER,
  customerId: 'CUS_0004',
  items: [{ productId: 'P001', quantity: 1, unitPriceCents: 99_999 }],
  amountCents: 99_999,
  currency: 'USD',
};
const PAYMENT_ID = `pay_${ORDER}`;

type PlaceOrderScenario = SagaScenario<PlaceOrderData, ContractMessages>;

/** Every command the saga sends must be a valid contract message. */
function contractChecked(saga: PlaceOrderScenario): PlaceOrderScenario {
  for (const c of saga.sent) {
    assert.ok(isMessageType(c.type), `${c.type} is a contract message`);
    parsePayload(c.type, c.payload);
  }
  return saga;
}

function started() {
  return givenSaga(placeOrderSaga(), { sagaId: ORDER }).startedWith(placeOrderData(requested));
}

function paying() {
  return started()
    .expectCommand({
      participant: TOPICS.inventoryCommands,
      type: 'ReserveStock',
      payload: { orderId: ORDER, items: [{ productId: 'P001', quantity: 1 }] },
    })
    .whenReply('StockReserved', ref)
    .expectCommand({
      participant: TOPICS.paymentCommands,
      type: 'ProcessPayment',
      payload: { orderId: ORDER, paymentId: PAYMENT_ID, customerId: 'CUS_0004', amountCents: 99_999, currency: 'USD' },
    });
}

describe('place-order saga (DESIGN §2)', () => {
  it('is compensable steps, the payment as pivot, then retriable steps', () => {
    assert.deepEqual(
      placeOrderSaga().steps.map((s) => `${s.name}:${s.kind}`),
      ['markPaymentPending:compensable', 'reserveStock:compensable', 'processPayment:pivot', 'confirmOrder:retriable', 'commitStock:retriable'],
    );
  });

  it('happy path: PAYMENT_PENDING, reserve, pay, confirm, commit', () => {
    const saga = paying()
      .whenReply('PaymentCompleted', { orderId: ORDER, paymentId: PAYMENT_ID })
      .expectCommand({ participant: TOPICS.orderCommands, type: 'ConfirmOrder', payload: ref })
      .whenReply('OrderConfirmed', ref)
      .expectCommand({ participant: TOPICS.inventoryCommands, type: 'CommitStock', payload: ref })
      .whenReply('StockCommitted', ref)
      .expectStatus('COMPLETED');
    contractChecked(saga);
    // The order is PAYMENT_PENDING when the saga starts (doneAtStart): ReserveStock is the first command.
    assert.deepEqual(saga.sent.map((c) => c.type), ['ReserveStock', 'ProcessPayment', 'ConfirmOrder', 'CommitStock']);
  });

  it('ConfirmOrder answered with OrderPlaced (an order service from before OrderConfirmed) still moves on', () => {
    paying()
      .whenReply('PaymentCompleted', { orderId: ORDER, paymentId: PAYMENT_ID })
      .expectCommand({ type: 'ConfirmOrder', payload: ref })
      .whenReply('OrderPlaced', ref)
      .expectCommand({ type: 'CommitStock', payload: ref })
      .whenReply('StockCommitted', ref)
      .expectStatus('COMPLETED');
  });

  it('P001 out of stock: FailOrder{OUT_OF_STOCK, "P001 is not available"}', () => {
    const saga = started()
      .whenReply('StockReservationFailed', { orderId: ORDER, code: ErrorCode.OutOfStock, reason: 'P001 is not available' })
      .expectCommand({
        participant: TOPICS.orderCommands,
        type: 'FailOrder',
        payload: { orderId: ORDER, code: ErrorCode.OutOfStock, reason: 'P001 is not available' },
      })
      .whenReply('OrderFailed', ref)
      .expectStatus('COMPENSATED');
    contractChecked(saga);
  });

  for (const code of [ErrorCode.InsufficientFunds, ErrorCode.WalletUnavailable, ErrorCode.UnknownCustomer]) {
    it(`payment failed ${code}: ReleaseStock, then FailOrder with the payment's code`, () => {
      const saga = paying()
        .whenReply('PaymentFailed', { orderId: ORDER, paymentId: PAYMENT_ID, code, reason: `wallet said ${code}` })
        .expectCommand({ type: 'ReleaseStock', payload: ref })
        .whenReply('StockReleased', ref)
        .expectCommand({ type: 'FailOrder', payload: { orderId: ORDER, code, reason: `wallet said ${code}` } })
        .whenReply('OrderFailed', ref)
        .expectStatus('COMPENSATED');
      contractChecked(saga);
    });
  }

  it('payment silent past its retries: refund (reverse-if-applied), release, fail STEP_TIMEOUT', () => {
    const saga = paying();
    const t = DEFAULT_PLACE_ORDER_TIMINGS;
    assert.equal(saga.instance.deadlineAt!.getTime() - saga.now.getTime(), t.paymentTimeoutMs);
    for (let attempt = 1; attempt < t.maxAttempts; attempt++) {
      saga.whenTimeout().whenTimeout().expectCommand({ type: 'ProcessPayment' }); // timeout, backoff, re-send
    }
    saga
      .whenTimeout()
      .expectCommand({ participant: TOPICS.paymentCommands, type: 'RefundPayment', payload: { orderId: ORDER, paymentId: PAYMENT_ID } })
      .whenReply('PaymentRefunded', { orderId: ORDER, paymentId: PAYMENT_ID })
      .expectCommand({ type: 'ReleaseStock' })
      .whenReply('StockReleased', ref)
      .expectCommand({ type: 'FailOrder' })
      .expectFailure({ code: 'STEP_TIMEOUT', step: 'processPayment' });
    contractChecked(saga);
    const payments = saga.sent.filter((c) => c.type === 'ProcessPayment');
    assert.equal(new Set(payments.map((c) => c.messageId)).size, t.maxAttempts, 'each re-send has a new message id');
    assert.ok(payments.every((c) => (c.payload as { paymentId: string }).paymentId === PAYMENT_ID), 'same payment id');
  });

  it('an unknown failure code still gives FailOrder a valid ErrorCode', () => {
    // A participant on a newer contract may send a code this one does not know: off the catalogue on purpose.
    const newerCode = 'SOMETHING_NEW' as ErrorCode;
    const saga = started()
      .whenReply('StockReservationFailed', { orderId: ORDER, code: newerCode, reason: 'x' })
      .expectCommand({ type: 'FailOrder', payload: { orderId: ORDER, code: ErrorCode.Internal, reason: 'x' } });
    contractChecked(saga);
  });

  it('confirm and commit are retried until they succeed', () => {
    /** Each timeout either re-sends the step's command or schedules its re-send: never anything else. */
    const timeoutsResend = (saga: PlaceOrderScenario, type: string, participant: string) => {
      const before = saga.sent.length;
      for (let n = 0; n < 10; n++) saga.whenTimeout();
      const resent = saga.sent.slice(before);
      assert.ok(resent.length >= 5, `${type} re-sent (${resent.length} times in 10 timeouts)`);
      for (const c of resent) assert.deepEqual({ type: c.type, participant: c.participant, payload: c.payload, sagaId: c.sagaId }, { type, participant, payload: ref, sagaId: ORDER });
      const ids = saga.sent.filter((c) => c.type === type).map((c) => c.messageId);
      assert.equal(new Set(ids).size, ids.length, 'each re-send has a new message id');
      saga.expectStatus('RUNNING');
      assert.equal(saga.instance.failure, null);
    };
    const saga = paying().whenReply('PaymentCompleted', { orderId: ORDER, paymentId: PAYMENT_ID });
    timeoutsResend(saga, 'ConfirmOrder', TOPICS.orderCommands);
    assert.equal(saga.instance.currentStep, 'confirmOrder');
    // The reply to any of the re-sent copies (here the first) moves the saga on.
    const first = saga.sent.find((c) => c.type === 'ConfirmOrder')!;
    saga.whenReply('OrderConfirmed', ref, { to: first.messageId }).expectCommand({ type: 'CommitStock', payload: ref });
    timeoutsResend(saga, 'CommitStock', TOPICS.inventoryCommands);
    saga.whenReply('StockCommitted', ref).expectStatus('COMPLETED');
  });
});

describe('place-order saga: the test DSL is typed by the contract catalogue', () => {
  it('a misspelled reply, a wrong payload field or a misspelled command does not compile', () => {
    // Compiled, never run: each marked line must be a type error, or tsc fails the build.
    const mistakes = (saga: PlaceOrderScenario) => {
      // @ts-expect-error a misspelled reply type
      saga.whenReply('StockReserve', ref);
      // @ts-expect-error a wrong payload field (paymentID)
      saga.whenReply('PaymentCompleted', { orderId: ORDER, paymentID: PAYMENT_ID });
      // @ts-expect-error a misspelled command type
      saga.expectCommand({ type: 'ProcessPayments' });
    };
    assert.equal(typeof mistakes, 'function');
    paying().whenReply('PaymentCompleted', { orderId: ORDER, paymentId: PAYMENT_ID }).expectCommand({ type: 'ConfirmOrder', payload: ref });
  });
});

describe('place-order saga v2: a stock check before the reservation', () => {
  const v2 = () => givenSaga(placeOrderSaga(DEFAULT_PLACE_ORDER_TIMINGS, 2), { sagaId: ORDER }).startedWith(placeOrderData(requested));
  const lines = { orderId: ORDER, items: [{ productId: 'P001', quantity: 1 }] };

  it('is v1 with one more compensable step, checkStock, before reserveStock; v1 is unchanged', () => {
    assert.deepEqual(placeOrderSaga().version, 1);
    const def = placeOrderSaga(DEFAULT_PLACE_ORDER_TIMINGS, 2);
    assert.equal(def.version, 2);
    assert.deepEqual(
      def.steps.map((s) => `${s.name}:${s.kind}`),
      ['markPaymentPending:compensable', 'checkStock:compensable', 'reserveStock:compensable', 'processPayment:pivot', 'confirmOrder:retriable', 'commitStock:retriable'],
    );
  });

  it('happy path: check, reserve, pay, confirm, commit; the instance records v2', () => {
    const saga = v2()
      .expectCommand({ participant: TOPICS.inventoryCommands, type: 'CheckStock', payload: lines })
      .whenReply('StockAvailable', ref)
      .expectCommand({ participant: TOPICS.inventoryCommands, type: 'ReserveStock', payload: lines })
      .whenReply('StockReserved', ref)
      .expectCommand({ type: 'ProcessPayment' })
      .whenReply('PaymentCompleted', { orderId: ORDER, paymentId: PAYMENT_ID })
      .expectCommand({ type: 'ConfirmOrder', payload: ref })
      .whenReply('OrderPlaced', ref)
      .expectCommand({ type: 'CommitStock', payload: ref })
      .whenReply('StockCommitted', ref)
      .expectStatus('COMPLETED');
    contractChecked(saga);
    assert.equal(saga.instance.definitionVersion, 2);
  });

  it('stock gone at the check: FailOrder{OUT_OF_STOCK, "P001 is not available"}, nothing reserved or released', () => {
    const saga = v2()
      .whenReply('StockUnavailable', { orderId: ORDER, code: ErrorCode.OutOfStock, reason: 'P001 is not available' })
      .expectCommand({ type: 'FailOrder', payload: { orderId: ORDER, code: ErrorCode.OutOfStock, reason: 'P001 is not available' } })
      .whenReply('OrderFailed', ref)
      .expectStatus('COMPENSATED')
      .expectFailure({ step: 'checkStock', code: ErrorCode.OutOfStock });
    contractChecked(saga);
    assert.deepEqual(saga.sent.map((c) => c.type), ['CheckStock', 'FailOrder']);
  });

  it('a check that never answers is re-sent, then fails the saga with STEP_TIMEOUT (virtual clock)', () => {
    const saga = v2();
    const t = DEFAULT_PLACE_ORDER_TIMINGS;
    for (let attempt = 1; attempt < t.maxAttempts; attempt++) saga.whenTimeout().whenTimeout().expectCommand({ type: 'CheckStock' });
    saga.whenTimeout().expectCommand({ type: 'FailOrder' }).expectFailure({ code: 'STEP_TIMEOUT', step: 'checkStock' });
    assert.equal(saga.sent.filter((c) => c.type === 'CheckStock').length, t.maxAttempts);
  });

  it('a payment failure after the check compensates as in v1: ReleaseStock, then FailOrder', () => {
    v2()
      .whenReply('StockAvailable', ref)
      .whenReply('StockReserved', ref)
      .whenReply('PaymentFailed', { orderId: ORDER, paymentId: PAYMENT_ID, code: ErrorCode.InsufficientFunds, reason: 'balance too low' })
      .expectCommand({ type: 'ReleaseStock', payload: ref })
      .whenReply('StockReleased', ref)
      .expectCommand({ type: 'FailOrder', payload: { orderId: ORDER, code: ErrorCode.InsufficientFunds, reason: 'balance too low' } });
  });
});
