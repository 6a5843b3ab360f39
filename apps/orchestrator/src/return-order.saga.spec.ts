import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isMessageType, parsePayload, TOPICS } from '@saga/contracts';
import { givenSaga, type SagaScenario } from '@saga/saga/testing';
import { DEFAULT_PLACE_ORDER_TIMINGS, type ContractMessages } from './place-order.saga';
import { returnOrderData, returnOrderSaga, type ReturnOrderData } from './return-order.saga';

const ORDER = '0193a000-0000-7000-8000-000000000002';
const RETURN = 'ret_0193a000-0000-7000-8000-0000000000f1';
const ref = { orderId: ORDER };
const PAYMENT_ID = `pay_${ORDER}`;
const payment = { orderId: ORDER, paymentId: PAYMENT_ID };
const requested = {
  orderId: ORDER,
  returnId: RETURN,
  customerId: 'CUS_0001',
  items: [{ productId: 'P002', quantity: 2, unitPriceCents: 59_999 }],
  amountCents: 119_998,
  currency: 'USD',
};

type ReturnScenario = SagaScenario<ReturnOrderData, ContractMessages>;

/** Every command the saga sends must be a valid contract message. */
function contractChecked(saga: ReturnScenario): ReturnScenario {
  for (const c of saga.sent) {
    assert.ok(isMessageType(c.type), `${c.type} is a contract message`);
    parsePayload(c.type, c.payload);
  }
  return saga;
}

function started() {
  return givenSaga(returnOrderSaga(), { sagaId: RETURN }).startedWith(returnOrderData(requested));
}

describe('return saga', () => {
  it('is a compensable step done at start, the refund as pivot, then retriable restock and completion', () => {
    const def = returnOrderSaga();
    assert.equal(def.type, 'ReturnOrder');
    assert.deepEqual(
      def.steps.map((s) => `${s.name}:${s.kind}`),
      ['markReturnPending:compensable', 'issueRefund:pivot', 'returnStock:retriable', 'completeReturn:retriable'],
    );
  });

  it('happy path: RETURN_PENDING at start, refund, restock, RETURNED', () => {
    const saga = started()
      .expectCommand({ participant: TOPICS.paymentCommands, type: 'IssueRefund', payload: payment })
      .whenReply('RefundIssued', payment)
      .expectCommand({ participant: TOPICS.inventoryCommands, type: 'ReturnStock', payload: ref })
      .whenReply('StockReturned', ref)
      .expectCommand({ participant: TOPICS.orderCommands, type: 'CompleteOrderReturn', payload: ref })
      .whenReply('OrderReturned', ref)
      .expectStatus('COMPLETED');
    contractChecked(saga);
    // The order is RETURN_PENDING as the saga starts (doneAtStart): the refund is the first command.
    assert.deepEqual(saga.sent.map((c) => c.type), ['IssueRefund', 'ReturnStock', 'CompleteOrderReturn']);
    assert.ok(saga.sent.every((c) => c.sagaId === RETURN), 'every command carries the return id as its saga id');
  });

  it('refund refused (no completed payment): the order goes back to PLACED with the reason, nothing restocked', () => {
    const reason = `order ${ORDER} has a FAILED payment: nothing to refund`;
    const saga = started()
      .whenReply('RefundDeclined', { ...payment, code: ErrorCode.NotRefundable, reason })
      .expectCommand({ participant: TOPICS.orderCommands, type: 'CancelOrderReturn', payload: { orderId: ORDER, code: ErrorCode.NotRefundable, reason } })
      .whenReply('OrderReturnCanceled', ref)
      .expectStatus('COMPENSATED')
      .expectFailure({ code: ErrorCode.NotRefundable, step: 'issueRefund' });
    contractChecked(saga);
    assert.deepEqual(saga.sent.map((c) => c.type), ['IssueRefund', 'CancelOrderReturn']);
  });

  it('wallet down during the refund (retried by the payment service, then declined): compensated, surfaced as WALLET_UNAVAILABLE', () => {
    const reason = 'refund refused: wallet unavailable after 3 attempts: ECONNREFUSED';
    const saga = started()
      .whenReply('RefundDeclined', { ...payment, code: ErrorCode.WalletUnavailable, reason })
      .expectCommand({ type: 'CancelOrderReturn', payload: { orderId: ORDER, code: ErrorCode.WalletUnavailable, reason } })
      .whenReply('OrderReturnCanceled', ref)
      .expectStatus('COMPENSATED')
      .expectFailure({ code: ErrorCode.WalletUnavailable, step: 'issueRefund' });
    contractChecked(saga);
  });

  it('a wallet that may have taken the refund: issued as pending, and the saga goes forward', () => {
    started()
      .whenReply('RefundIssued', { ...payment, pending: 'wallet retried until it takes it (timed out)' })
      .expectCommand({ type: 'ReturnStock', payload: ref })
      .whenReply('StockReturned', ref)
      .whenReply('OrderReturned', ref)
      .expectStatus('COMPLETED');
  });

  it('a silent payment service: the refund re-sent with new message ids, then STEP_TIMEOUT compensates', () => {
    const saga = started();
    const t = DEFAULT_PLACE_ORDER_TIMINGS;
    assert.equal(saga.instance.deadlineAt!.getTime() - saga.now.getTime(), t.paymentTimeoutMs);
    for (let attempt = 1; attempt < t.maxAttempts; attempt++) saga.whenTimeout().whenTimeout().expectCommand({ type: 'IssueRefund' });
    saga
      .whenTimeout()
      .expectCommand({ type: 'CancelOrderReturn', payload: { orderId: ORDER, code: ErrorCode.StepTimeout, reason: saga.instance.failure?.reason ?? '' } })
      .expectFailure({ code: 'STEP_TIMEOUT', step: 'issueRefund' });
    const refunds = saga.sent.filter((c) => c.type === 'IssueRefund');
    assert.equal(new Set(refunds.map((c) => c.messageId)).size, t.maxAttempts, 'each re-send has a new message id');
    assert.ok(refunds.every((c) => (c.payload as { paymentId: string }).paymentId === PAYMENT_ID), 'same payment id: idempotent refund');
  });

  it('past the refund, restock and completion are retried until they succeed', () => {
    const saga = started().whenReply('RefundIssued', payment);
    for (let n = 0; n < 8; n++) saga.whenTimeout();
    const restocks = saga.sent.filter((c) => c.type === 'ReturnStock');
    assert.ok(restocks.length >= 4, `ReturnStock re-sent (${restocks.length})`);
    saga.expectStatus('RUNNING');
    assert.equal(saga.instance.failure, null);
    saga.whenReply('StockReturned', ref, { to: restocks[0].messageId }).expectCommand({ type: 'CompleteOrderReturn' });
    for (let n = 0; n < 4; n++) saga.whenTimeout();
    assert.ok(saga.sent.filter((c) => c.type === 'CompleteOrderReturn').length >= 2);
    saga.whenReply('OrderReturned', ref).expectStatus('COMPLETED');
  });

  it('an operator cannot cancel it past the refund', () => {
    started().whenReply('RefundIssued', payment).whenOperatorCancels().expectIgnored();
  });
});
