/**
 * Stable error codes, shared by HTTP responses and failure replies.
 *
 * @example
 * throw new AppError(ErrorCode.OutOfStock, 'P001 is not available');
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  NotFound = 'NOT_FOUND',
  UnknownProduct = 'UNKNOWN_PRODUCT',
  UnknownCustomer = 'UNKNOWN_CUSTOMER',
  OutOfStock = 'OUT_OF_STOCK',
  InsufficientFunds = 'INSUFFICIENT_FUNDS',
  WalletUnavailable = 'WALLET_UNAVAILABLE',
  InvalidTransition = 'INVALID_TRANSITION',
  OrderNotPayable = 'ORDER_NOT_PAYABLE',
  /** A return of an order that is not PLACED (not yet placed, already on its way, returned, ...). */
  OrderNotReturnable = 'ORDER_NOT_RETURNABLE',
  /** A refund of a payment that is not COMPLETED. */
  NotRefundable = 'NOT_REFUNDABLE',
  StepTimeout = 'STEP_TIMEOUT',
  OrderExpired = 'ORDER_EXPIRED',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  Unauthorized = 'UNAUTHORIZED',
  Forbidden = 'FORBIDDEN',
  RateLimited = 'RATE_LIMITED',
  Unavailable = 'UNAVAILABLE',
  /** Admission control turned the call away: too many already wait (retry after Retry-After). */
  Overloaded = 'OVERLOADED',
  /** An `Idempotency-Key` sent again with another request (another body or operation) than its first use. */
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  Internal = 'INTERNAL',
}

/** HTTP status of each code; exhaustive so a new code cannot be forgotten. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
      return 400;
    case ErrorCode.NotFound:
    case ErrorCode.UnknownProduct:
    case ErrorCode.UnknownCustomer:
      return 404;
    case ErrorCode.OutOfStock:
    case ErrorCode.InvalidTransition:
    case ErrorCode.OrderNotPayable:
    case ErrorCode.OrderNotReturnable:
    case ErrorCode.NotRefundable:
    case ErrorCode.Conflict:
    case ErrorCode.OrderExpired:
      return 409;
    case ErrorCode.InsufficientFunds:
      return 402;
    case ErrorCode.WalletUnavailable:
    case ErrorCode.Unavailable:
    case ErrorCode.Overloaded:
      return 503;
    case ErrorCode.StepTimeout:
      return 504;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.IdempotencyKeyReused:
      return 422;
    case ErrorCode.Unauthorized:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.Internal:
      return 500;
  }
}

/** An error with a stable code; `details` goes to the HTTP body next to code and message. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return httpStatusOf(this.code);
  }
}
