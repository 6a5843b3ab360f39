import { defineSaga } from '../saga-definition';

// A test-only saga shaped like the real place-order saga (which lives in apps/orchestrator).

export interface FixtureData {
  orderId: string;
  customerId: string;
  amountCents: number;
  paymentId?: string;
}

type Ref = { orderId: string };
type Failure = Ref & { code: string; reason: string };
export type FixtureMessages = {
  MarkOrderPaymentPending: Ref;
  OrderPaymentPendingMarked: Ref;
  OrderPaymentPendingRejected: Failure;
  FailOrder: Failure;
  OrderFailed: Ref;
  ReserveStock: Ref;
  StockReserved: Ref;
  StockReservationFailed: Failure;
  ReleaseStock: Ref;
  StockReleased: Ref;
  ProcessPayment: Ref & { customerId: string; amountCents: number };
  PaymentCompleted: Ref & { paymentId: string };
  PaymentFailed: Failure;
  RefundPayment: Ref & { paymentId?: string };
  PaymentRefunded: Ref;
  ConfirmOrder: Ref;
  OrderPlaced: Ref;
  CommitStock: Ref;
  StockCommitted: Ref;
};

export const FIXTURE_TIMEOUT_MS = 10_000;

export const placeOrderFixture = defineSaga<FixtureData, FixtureMessages>('PlaceOrderFixture', {
  timeoutMs: FIXTURE_TIMEOUT_MS,
  compensationRetry: { maxAttempts: 3, backoffMs: 500 },
})
  .step('markPaymentPending', {
    invoke: (d) => ({ participant: 'order.commands', type: 'MarkOrderPaymentPending', payload: { orderId: d.orderId } }),
    onReply: { OrderPaymentPendingMarked: 'success', OrderPaymentPendingRejected: 'failure' },
    compensate: {
      command: (d, f) => ({
        participant: 'order.commands',
        type: 'FailOrder',
        payload: { orderId: d.orderId, code: f.code, reason: f.reason },
      }),
      onReply: 'OrderFailed',
    },
    compensateOnTimeout: true,
    retry: { maxAttempts: 3, backoffMs: 200 },
  })
  .step('reserveStock', {
    invoke: (d) => ({ participant: 'inventory.commands', type: 'ReserveStock', payload: { orderId: d.orderId } }),
    onReply: { StockReserved: 'success', StockReservationFailed: 'failure' },
    compensate: {
      command: (d) => ({ participant: 'inventory.commands', type: 'ReleaseStock', payload: { orderId: d.orderId } }),
      onReply: 'StockReleased',
    },
    compensateOnTimeout: true,
  })
  .step('processPayment', {
    invoke: (d) => ({
      participant: 'payment.commands',
      type: 'ProcessPayment',
      payload: { orderId: d.orderId, customerId: d.customerId, amountCents: d.amountCents },
    }),
    onReply: {
      PaymentCompleted: { outcome: 'success', update: (d, p) => ({ ...d, paymentId: p.paymentId }) },
      PaymentFailed: 'failure',
    },
    compensate: {
      command: (d) => ({ participant: 'payment.commands', type: 'RefundPayment', payload: { orderId: d.orderId } }),
      onReply: ['PaymentRefunded'],
    },
    // deliberately no compensateOnTimeout here, to test the "without" case
  })
  .step('confirmOrder', {
    invoke: (d) => ({ participant: 'order.commands', type: 'ConfirmOrder', payload: { orderId: d.orderId } }),
    onReply: { OrderPlaced: 'success' },
    retryUntilSuccess: true,
    retry: { maxAttempts: 1, backoffMs: 1_000 },
  })
  .step('commitStock', {
    invoke: (d) => ({ participant: 'inventory.commands', type: 'CommitStock', payload: { orderId: d.orderId } }),
    onReply: { StockCommitted: 'success' },
    retryUntilSuccess: true,
  })
  .build();
