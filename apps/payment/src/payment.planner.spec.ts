import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPaymentCommand, parkedPayment, walletCallFor, type PaymentCommand, type PaymentRow } from './payment.planner';

const pay: PaymentCommand = { type: 'ProcessPayment', orderId: 'O1', paymentId: 'PAY1', customerId: 'CUS_0001', amountCents: 99_999, currency: 'USD' };
const refund: PaymentCommand = { type: 'RefundPayment', orderId: 'O1', paymentId: 'PAY1' };

function run(commands: PaymentCommand[], results: Parameters<typeof applyPaymentCommand>[2][], start?: PaymentRow) {
  let row = start;
  return commands.map((cmd, i) => {
    const step = applyPaymentCommand(row, cmd, results[i]);
    row = step.row;
    return step;
  });
}

describe('payment planner', () => {
  it('completes a payment once and answers a repeat with the recorded outcome, without a wallet call', () => {
    assert.equal(walletCallFor(undefined, pay), 'debit');
    const [first, again] = run([pay, pay], [{ outcome: 'APPLIED', attempts: 2 }, undefined]);
    assert.deepEqual(first.reply, { type: 'PaymentCompleted', payload: { orderId: 'O1', paymentId: 'PAY1', attempts: 2 } });
    assert.equal(first.event, true);
    assert.deepEqual(first.ledger.map((l) => [l.type, l.status, l.amountCents]), [['PAYMENT', 'COMPLETED', 99_999]]);
    assert.match(first.ledger[0].description, /after 2 attempts/);
    assert.equal(walletCallFor(first.row, pay), null);
    assert.deepEqual(again.reply, first.reply);
    assert.deepEqual([again.changed, again.event, again.ledger.length], [false, false, 0]);
  });

  it('records refusals with their code and reason', () => {
    const [step] = run([pay], [{ outcome: 'REJECTED', code: 'INSUFFICIENT_FUNDS' as never, reason: 'insufficient funds', attempts: 1 }]);
    assert.deepEqual(step.reply, {
      type: 'PaymentFailed',
      payload: { orderId: 'O1', paymentId: 'PAY1', code: 'INSUFFICIENT_FUNDS', reason: 'insufficient funds', attempts: 1 },
    });
    assert.equal(step.pending, null);
    assert.equal(walletCallFor(step.row, refund), null, 'nothing to reverse after a definite refusal');
  });

  it('owes a reversal when the wallet is unavailable, and settles it on RefundPayment', () => {
    const [failed, refunded] = run([pay, refund], [{ outcome: 'UNAVAILABLE', reason: 'wallet unavailable after 4 attempts: ECONNREFUSED', attempts: 4, busy: false }, { outcome: 'REVERSED', attempts: 1 }]);
    assert.equal(failed.reply?.type, 'PaymentFailed');
    assert.equal((failed.reply!.payload as { code: string }).code, 'WALLET_UNAVAILABLE');
    assert.match((failed.reply!.payload as { reason: string }).reason, /after 4 attempts/);
    assert.deepEqual(failed.pending, { add: 'UNKNOWN_DEBIT' });
    assert.equal(walletCallFor(failed.row, refund), 'reverse');
    assert.deepEqual(refunded.pending, { remove: true });
    assert.equal(refunded.reply?.type, 'PaymentRefunded');
  });

  it('refunds a completed payment once', () => {
    const [, refunded, again] = run([pay, refund, refund], [{ outcome: 'APPLIED', attempts: 1 }, { outcome: 'REVERSED', attempts: 1 }, undefined]);
    assert.equal(refunded.row?.status, 'REFUNDED');
    assert.deepEqual(refunded.ledger.map((l) => [l.type, l.status]), [['REFUND', 'COMPLETED']]);
    assert.equal(refunded.event, true);
    assert.deepEqual([again.reply?.type, again.ledger.length, again.event], ['PaymentRefunded', 0, false]);
  });

  it('schedules a refund the wallet cannot take yet and still answers', () => {
    const [, refunded] = run([pay, refund], [{ outcome: 'APPLIED', attempts: 1 }, { outcome: 'UNAVAILABLE', reason: 'down', attempts: 3, busy: false }]);
    assert.deepEqual(refunded.ledger.map((l) => [l.type, l.status]), [['REFUND', 'PENDING']]);
    assert.deepEqual(refunded.pending, { add: 'REFUND' });
    assert.equal(refunded.reply?.type, 'PaymentRefunded');
  });

  it('leaves a tombstone for a refund that comes first: the late payment fails without a debit', () => {
    const [tomb, late] = run([refund, pay], [{ outcome: 'NOTHING_TO_REVERSE', attempts: 1 }, undefined]);
    assert.deepEqual([tomb.row?.tombstone, tomb.reply?.type, tomb.event], [true, 'PaymentRefunded', false]);
    assert.equal(walletCallFor(tomb.row, pay), null);
    assert.equal(late.reply?.type, 'PaymentFailed');
    assert.equal((late.reply!.payload as { code: string }).code, 'CONFLICT');
  });

  it('parks a payment without a reply; a repeat stays silent; a refund meanwhile reverses and cancels it', () => {
    const parked = parkedPayment(pay as Extract<PaymentCommand, { type: 'ProcessPayment' }>);
    assert.deepEqual([parked.status, parked.amountCents, parked.customerId], ['PENDING', 99_999, 'CUS_0001']);
    assert.equal(walletCallFor(parked, pay), null, 'the parked debit is not called twice');
    const [repeat] = run([pay], [undefined], parked);
    assert.deepEqual([repeat.reply, repeat.changed, repeat.event], [null, false, false]);
    assert.equal(walletCallFor(parked, refund), 'reverse', 'the parked debit may have landed');
    const [canceled, late] = run([refund, pay], [{ outcome: 'REVERSED', attempts: 1 }, undefined], parked);
    assert.deepEqual([canceled.row?.status, canceled.row?.tombstone, canceled.reply?.type, canceled.pending, canceled.ledger.length], ['REFUNDED', true, 'PaymentRefunded', null, 0]);
    assert.equal((late.reply!.payload as { code: string }).code, 'CONFLICT', 'a late repeat learns it was canceled');
    const [away] = run([refund], [{ outcome: 'UNAVAILABLE', reason: 'down', attempts: 3, busy: false }], parked);
    assert.deepEqual(away.pending, { add: 'UNKNOWN_DEBIT' }, 'a wallet away owes the reverse');
  });

  it('refuses to decide without the prepared wallet answer (the batch is retried)', () => {
    assert.throws(() => applyPaymentCommand(undefined, pay, undefined), /not prepared/);
  });

  describe('IssueRefund (the return saga)', () => {
    const issue: PaymentCommand = { type: 'IssueRefund', orderId: 'O1', paymentId: 'PAY1' };
    const completed = () => run([pay], [{ outcome: 'APPLIED', attempts: 1 }])[0].row!;

    it('refunds a COMPLETED payment once; a repeat is issued again without a wallet call', () => {
      assert.equal(walletCallFor(completed(), issue), 'reverse');
      const [first, again] = run([issue, issue], [{ outcome: 'REVERSED', attempts: 1 }, undefined], completed());
      assert.deepEqual(first.reply, { type: 'RefundIssued', payload: { orderId: 'O1', paymentId: 'PAY1' } });
      assert.deepEqual([first.row?.status, first.event, first.pending], ['REFUNDED', true, null]);
      assert.deepEqual(first.ledger.map((l) => [l.type, l.status, l.amountCents]), [['REFUND', 'COMPLETED', 99_999]]);
      assert.equal(walletCallFor(first.row, issue), null);
      assert.deepEqual([again.reply, again.changed, again.ledger.length], [first.reply, false, 0]);
    });

    it('declines a payment that is not COMPLETED (NOT_REFUNDABLE), with no wallet call', () => {
      const failed = run([pay], [{ outcome: 'REJECTED', code: 'INSUFFICIENT_FUNDS' as never, reason: 'poor', attempts: 1 }])[0].row!;
      for (const row of [undefined, failed]) {
        assert.equal(walletCallFor(row, issue), null);
        const [step] = run([issue], [undefined], row);
        assert.equal(step.reply?.type, 'RefundDeclined');
        assert.equal((step.reply?.payload as { code: string }).code, 'NOT_REFUNDABLE');
        assert.deepEqual([step.changed, step.ledger.length], [false, 0]);
      }
    });

    it('wallet refused every connection: declined WALLET_UNAVAILABLE, payment unchanged, a FAILED ledger row', () => {
      const [step] = run([issue], [{ outcome: 'UNAVAILABLE', reason: 'wallet unavailable after 3 attempts: ECONNREFUSED', attempts: 3, busy: false, reached: false }], completed());
      assert.equal(step.reply?.type, 'RefundDeclined');
      assert.equal((step.reply?.payload as { code: string }).code, 'WALLET_UNAVAILABLE');
      assert.deepEqual([step.row?.status, step.changed, step.pending], ['COMPLETED', false, null]);
      assert.deepEqual(step.ledger.map((l) => [l.type, l.status]), [['REFUND', 'FAILED']]);
    });

    it('a wallet that may have taken it: the refund is owed (PENDING ledger row, reversal for the reconciler) and issued as pending', () => {
      const [step] = run([issue], [{ outcome: 'UNAVAILABLE', reason: 'timed out', attempts: 3, busy: true, reached: true }], completed());
      assert.equal(step.reply?.type, 'RefundIssued');
      assert.match((step.reply?.payload as { pending?: string }).pending ?? '', /timed out/);
      assert.deepEqual([step.row?.status, step.row?.pendingReversal, step.pending], ['REFUNDED', true, { add: 'REFUND' }]);
      assert.deepEqual(step.ledger.map((l) => [l.type, l.status]), [['REFUND', 'PENDING']]);
    });
  });
});

