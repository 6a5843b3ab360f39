import { z } from 'zod';

/**
 * Money is integer cents inside, a decimal with at most two places in JSON.
 *
 * @example
 * toCents(999.99) === 99999; fromCents(99999) === 999.99
 */
export function toCents(amount: number): number {
  const cents = Math.round(amount * 100);
  if (!Number.isFinite(amount) || Math.abs(amount * 100 - cents) > 1e-6) {
    throw new RangeError(`${amount} has more than two decimal places`);
  }
  return cents;
}

export function fromCents(cents: number | bigint | string): number {
  return Number(cents) / 100;
}

/** A JSON money amount: a finite number with at most two decimal places. */
export const MoneySchema = z
  .number()
  .finite()
  .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, { message: 'must have at most two decimal places' });

/** ISO 4217 currency code. */
export const CurrencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD');
export const DEFAULT_CURRENCY = 'USD';
