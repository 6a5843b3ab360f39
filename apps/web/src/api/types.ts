// JSON shapes of the gateway's API, from its OpenAPI document: openapi.d.ts is generated
// (`npm run gen:api`), so a change of the server's answers shows here as a type error in the pages.
import type { components } from './openapi';

type Schemas = components['schemas'];

export type Product = Schemas['Product'];
export type OrderStatus = Schemas['OrderStatus'];
export type Order = Schemas['Order'];
/** A 202 of a saga-starting call: the order so far and where to follow it. */
export type PendingOrder = Schemas['PendingOrder'];
export type OrderPage = Schemas['OrderPage'];
export type Wallet = Schemas['Wallet'];
/** The answer of a deposit or withdrawal. */
export type WalletMove = Schemas['WalletMove'];
/** The wallet's ledger: a payment is a DEBIT, its compensation a REFUND. */
export type WalletTransaction = Schemas['WalletTransaction'];
export type WalletTransactionPage = Schemas['WalletTransactionPage'];
/** The answer of `POST /api/auth/login`. */
export type Login = Schemas['LoginResult'];

export type SagaStatus = Schemas['SagaStatus'];
export type Saga = Schemas['Saga'];
export type SagaPage = Schemas['SagaPage'];
export type StepState = Schemas['StepState'];
export type SagaStep = Schemas['SagaStep'];
export type SagaHistoryEntry = Schemas['SagaHistoryEntry'];
export type SagaDetails = Schemas['SagaDetails'];
export type SagaStats = Schemas['SagaStats'];
export type OutcomeBucket = Schemas['OutcomeBucket'];
export type DeadLetter = Schemas['DeadLetter'];
/** A page of dead letters, with the `total` and `pending` (not replayed) counts. */
export type DeadLetterPage = Schemas['DeadLetterPage'];

/** A page of a list (keyset paging): the next one is asked for with `cursor=<nextCursor>`. */
export type CursorPage<T> = Omit<OrderPage, 'items'> & { items: T[] };

// UI-only: the status filter needs a runtime list. A record, so a status the document adds or drops
// is a type error here.
const SAGA_STATUS_SET: Record<SagaStatus, true> = { RUNNING: true, COMPENSATING: true, COMPLETED: true, COMPENSATED: true, COMPENSATION_FAILED: true };
export const SAGA_STATUSES = Object.keys(SAGA_STATUS_SET) as readonly SagaStatus[];
