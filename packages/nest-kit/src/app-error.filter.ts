import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AppError, ErrorCode } from '@saga/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ZodError } from 'zod';

/** JSON error body of every service: a stable code, a human message, and optional details. */
export interface ErrorBody {
  code: string;
  message: string;
  [detail: string]: unknown;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.ValidationFailed,
  429: ErrorCode.RateLimited,
  503: ErrorCode.Unavailable,
};

function fastifyCode(err: HttpException): string | undefined {
  const cause = err.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/** PostgreSQL's "invalid byte sequence for encoding UTF8: 0x00" (22021) or "unsupported Unicode escape" (22P05). */
function isNulTextError(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown } | null;
  return typeof e === 'object' && e !== null && typeof e.severity === 'string' && (e.code === '22021' || e.code === '22P05');
}

/**
 * Maps any error to `{ code, message, ...details }` with the right status. Validation problems
 * (zod, bad JSON, wrong content type) are always a 400, never a 5xx; an oversized body is a 413;
 * an unknown route a 404 NOT_FOUND; anything unexpected a 500 INTERNAL, logged with its stack.
 *
 * @example
 * app.useGlobalFilters(new AppErrorFilter(logger));
 */
@Catch()
export class AppErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const [status, body] = this.toResponse(exception, request);
    if (reply.sent) return;
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  toResponse(exception: unknown, request?: FastifyRequest): [number, ErrorBody] {
    if (exception instanceof AppError) {
      if (exception.status >= 500) this.logger.warn({ code: exception.code, msg: exception.message }, 'request failed');
      return [exception.status, { code: exception.code, message: exception.message, ...exception.details }];
    }
    if (exception instanceof ZodError) {
      // Someone called schema.parse() directly: still the client's fault, reported like parseWith would.
      const issue = exception.issues[0];
      const field = issue?.path.map(String).join('.') || 'body';
      return [400, { code: ErrorCode.ValidationFailed, message: `${field}: ${issue?.message ?? 'is invalid'}`, field }];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const fst = fastifyCode(exception);
      if (status === 413 || fst === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return [413, { code: ErrorCode.PayloadTooLarge, message: 'request body is too large' }];
      }
      if (status === 400 || status === 415 || fst?.startsWith('FST_ERR_CTP_')) {
        return [400, { code: ErrorCode.ValidationFailed, message: `body: ${exception.message.replace(/^Body\s+/i, '')}`, field: 'body' }];
      }
      if (status === 404) {
        const route = request ? `${request.method} ${request.url.split('?')[0]}` : 'this route';
        return [404, { code: ErrorCode.NotFound, message: exception.message || `${route} does not exist` }];
      }
      if (status >= 500) {
        this.logger.error({ err: exception, url: request?.url }, 'request failed');
        return [status, { code: CODE_BY_STATUS[status] ?? ErrorCode.Internal, message: STATUS_CODES[status] ?? 'error' }];
      }
      const code = CODE_BY_STATUS[status] ?? (STATUS_CODES[status] ?? 'ERROR').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
      return [status, { code, message: exception.message }];
    }
    if (isNulTextError(exception)) {
      // A NUL character in client text (an id, a name) reaches PostgreSQL, which cannot store it in
      // text: the client's fault, found by the bad-input fuzz test (was a 500).
      return [400, { code: ErrorCode.ValidationFailed, message: 'a text value contains a NUL character' }];
    }
    if (isDatabaseUnavailable(exception)) {
      // The database is restarting or unreachable: the service is, for a moment, unavailable (a
      // client may retry), not broken. Found by the chaos run's PostgreSQL restarts (was a 500).
      this.logger.warn({ err: (exception as Error).message, method: request?.method, url: request?.url }, 'database unavailable');
      return [503, { code: ErrorCode.Unavailable, message: 'the database is unavailable, try again' }];
    }
    this.logger.error({ err: exception, method: request?.method, url: request?.url }, 'unhandled error');
    return [500, { code: ErrorCode.Internal, message: 'internal error' }];
  }
}

/** Connection failures and PostgreSQL's shutdown / start-up / connection-exception classes (57P01–57P03, 08xxx). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(err.message);
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03'].includes(code) || code.startsWith('08');
}
