// JSON shapes of the gateway's API (DESIGN §3) as the UI uses them.

export interface Product {
  id: string;
  name: string;
  type: string;
  price: number;
  available: number;
}

export type OrderStatus = 'INITIATED' | 'PAYMENT_PENDING' | 'PAYMENT_DONE' | 'PLACED' | 'ON_WAY' | 'DELIVERED' | 'FAILED' | 'CANCELED';

export interface Order {
  id: string;
  customerId: string;
  status: OrderStatus;
  statusInfo: string | null;
  totalPrice: number;
  currency: string;
  orderItems: { productId: string; quantity: number; unitPrice: number; totalPrice: number }[];
  statusHistory: { status: OrderStatus; statusInfo: string | null; at: string }[];
  createdAt: string;
  updatedAt: string;
}

export interface Wallet {
  customerId: string;
  balance: number;
  currency: string;
}

export interface WalletTransaction {
  id: string;
  /** The wallet's ledger: a payment is a DEBIT, its compensation a REFUND. */
  type: 'DEPOSIT' | 'WITHDRAWAL' | 'DEBIT' | 'REFUND';
  amount: number;
  currency: string;
  description: string | null;
  reference: string | null;
  createdAt: string;
}

export interface Login {
  token: string;
  role: 'customer' | 'operator';
  sub: string;
}

export type SagaStatus = 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'COMPENSATED' | 'COMPENSATION_FAILED';
export const SAGA_STATUSES: readonly SagaStatus[] = ['RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED'];

export interface Saga {
  id: string;
  type: string;
  /** The version of its definition the saga started on and runs on. */
  definitionVersion: number;
  /** Unfinished, and its definition version is not registered: it waits until it is. */
  versionMissing: boolean;
  status: SagaStatus;
  currentStep: string;
  attempt: number;
  failure: { code: string; reason: string; step: string } | null;
  deadlineAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type StepState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'COMPENSATING' | 'COMPENSATED' | 'COMPENSATION_FAILED';

export interface SagaStep {
  name: string;
  state: StepState;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  compensationAttempts: number;
}

export interface SagaHistoryEntry {
  seq: number;
  at: string;
  step: string;
  event: string;
  detail: Record<string, unknown>;
}

export interface SagaDetails extends Saga {
  /** Events kept for the saga while its definition version is missing. */
  parkedEvents: number;
  steps: SagaStep[];
  history: SagaHistoryEntry[];
}

/** A page of a list (keyset paging): the next one is asked for with `cursor=<nextCursor>`. */
export interface CursorPage<T> {
  items: T[];
  limit: number;
  nextCursor: string | null;
}


export interface OutcomeBucket {
  at: string;
  COMPLETED: number;
  COMPENSATED: number;
  COMPENSATION_FAILED: number;
}

export interface DeadLetter {
  id: string;
  dlqTopic: string;
  originalTopic: string;
  key: string;
  messageId: string | null;
  messageType: string | null;
  sagaId: string | null;
  reason: string;
  error: string;
  consumerGroup: string | null;
  failedAt: string | null;
  receivedAt: string;
  replayedAt: string | null;
  replayMessageId: string | null;
  envelope: { payload?: unknown };
}
