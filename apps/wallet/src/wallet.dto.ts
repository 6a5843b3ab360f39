import { CurrencySchema, MoneySchema } from '@saga/contracts';
import { PAGE_QUERY } from '@saga/nest-kit';
import { z } from 'zod';

const Description = z.string().trim().min(1).max(200);

/** Body of `POST /api/wallets/:customerId/deposit` and `/withdraw`. @example { "amount": 25.5 } */
export const MoveMoneySchema = z.strictObject({
  // At least one cent: MoneySchema lets a tiny positive number such as 1e-74 through (it is 0.00
  // within its rounding tolerance), which moved 0 cents and wrote an empty transaction.
  amount: MoneySchema.positive().min(0.01, 'must be at least 0.01').max(1_000_000),
  currency: CurrencySchema.optional(),
  description: Description.optional(),
});

export const CustomerIdSchema = z.string().min(1).max(64);

/** `GET /api/wallets/{customerId}/transactions`: keyset-paged by transaction id (strict: an unknown parameter is a 400). */
export const TransactionsQuery = z.strictObject(PAGE_QUERY);

/** Body of `POST /internal/wallets` (bench and tests create their own customers). */
export const CreateWalletSchema = z.object({
  customerId: CustomerIdSchema,
  balance: MoneySchema.nonnegative().max(1_000_000_000),
  currency: CurrencySchema.default('USD'),
});

/** Body of `POST /internal/debits`, sent by the payment service; the payment id is the idempotency key. */
export const DebitSchema = z.object({
  paymentId: z.string().min(1).max(100),
  customerId: CustomerIdSchema,
  amountCents: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency: CurrencySchema,
  description: Description.optional(),
});
export type DebitRequest = z.infer<typeof DebitSchema>;

/** Most debits in one `POST /internal/debits/batch`. */
export const MAX_DEBIT_BATCH = 500;

/** Body of `POST /internal/debits/batch`: several debits, each idempotent by its payment id. */
export const DebitBatchSchema = z.strictObject({
  debits: z.array(DebitSchema).min(1).max(MAX_DEBIT_BATCH),
});

export const ReverseSchema = z.object({ description: Description.optional() }).optional();
