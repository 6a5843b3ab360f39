import { fromCents } from '@saga/contracts';
import type { TransactionRow, WalletRow } from './wallet.repository';

/** Public JSON of a wallet: money as a decimal. */
export function walletView(w: WalletRow) {
  return { customerId: w.customerId, balance: fromCents(w.balanceCents), currency: w.currency };
}

export function transactionView(t: TransactionRow) {
  return {
    id: String(t.id),
    type: t.type,
    amount: fromCents(t.amountCents),
    currency: t.currency,
    description: t.description,
    reference: t.reference,
    createdAt: t.createdAt.toISOString(),
  };
}
