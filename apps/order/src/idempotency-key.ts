import { AppError, ErrorCode } from '@saga/contracts';
import { createHash } from 'node:crypto';

/** Stripe's name for the response header that marks an answer given for an earlier request with the same key. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

/** The longest key accepted (characters, after unquoting). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** Calls that honour a key; part of the request fingerprint, so one key cannot serve two kinds of call. */
export type KeyedOperation = 'create' | 'place' | 'pay' | 'return';

/**
 * The key of an `Idempotency-Key` header, or undefined when there is none. The draft makes the value
 * a Structured Field string (`"8e03…"`); a bare value (as Stripe takes it) is accepted too and means
 * the same key. 1–255 printable ASCII characters, else 400 VALIDATION_FAILED naming the header.
 *
 * @example
 * parseIdempotencyKey('"order-42"'); // 'order-42'
 * parseIdempotencyKey('order-42');   // 'order-42'
 * parseIdempotencyKey(undefined);    // undefined
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw invalid('send the header once');
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1).replace(/\\(["\\])/g, '$1');
  if (key.length === 0) throw invalid(`must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`);
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) throw invalid(`must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters (got ${key.length})`);
  if (!/^[\x20-\x7e]+$/.test(key)) throw invalid('must be printable ASCII characters');
  return key;
}

function invalid(why: string): AppError {
  return new AppError(ErrorCode.ValidationFailed, `Idempotency-Key: ${why}`, { field: 'Idempotency-Key' });
}

/**
 * The fingerprint of a request kept with its key: a repeat must match it (else 422). The body is
 * taken as parsed and serialised with sorted keys, so field order or whitespace make no difference.
 *
 * @example
 * requestFingerprint('pay', { orderId: 'o1' }) === requestFingerprint('pay', { orderId: 'o1' }); // true
 */
export function requestFingerprint(operation: KeyedOperation, request: unknown): string {
  return createHash('sha256').update(`${operation}\n${canonicalJson(request)}`).digest('base64url');
}

/** JSON with object keys sorted at every level (undefined members left out, as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A key held for a customer: the request it was first used for and the order that request made or paid. */
export interface IdempotencyKeyClaim {
  customerId: string;
  key: string;
  operation: KeyedOperation;
  requestHash: string;
  orderId: string;
}

/** One string per (customer, key): keys are scoped to the customer. */
export function keyScope(k: Pick<IdempotencyKeyClaim, 'customerId' | 'key'>): string {
  return JSON.stringify([k.customerId, k.key]);
}

/**
 * The order a repeated request answers with: the one its key was first used for, when the request
 * is the same; a key used again for another request is a 422 IDEMPOTENCY_KEY_REUSED.
 */
export function replayedOrderId(held: IdempotencyKeyClaim | undefined, repeat: IdempotencyKeyClaim): string {
  if (held === undefined) {
    // The claim lost to a row no longer there (removed by the expiry in between): the client may retry.
    throw new AppError(ErrorCode.Conflict, `Idempotency-Key: "${repeat.key}" is being used by another request; retry`, { field: 'Idempotency-Key' });
  }
  if (held.requestHash !== repeat.requestHash) {
    const what = held.operation === repeat.operation ? `another ${describe(held.operation)} request (the body differs)` : `a ${describe(held.operation)} request`;
    throw new AppError(ErrorCode.IdempotencyKeyReused, `Idempotency-Key: "${repeat.key}" was already used for ${what}; send a new key for a new request`, {
      field: 'Idempotency-Key',
    });
  }
  return held.orderId;
}

function describe(operation: KeyedOperation): string {
  switch (operation) {
    case 'create':
      return 'create-order';
    case 'place':
      return 'place-order';
    case 'pay':
      return 'payment';
    case 'return':
      return 'return';
  }
}
