import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readiness } from './readiness';

/** Injection token of the service name shown by `GET /health`. */
export const SERVICE_NAME = Symbol('SERVICE_NAME');

/**
 * `GET /health`: 200 `{status:'ok', service, checks}` once every registered part is ready, 503
 * `{status:'starting'|'unavailable', ...}` before (and while shutting down).
 *
 * @example
 * curl -s 127.0.0.1:3004/health   # {"status":"ok","service":"wallet","checks":{"http":"ok"}}
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  @Get('health')
  health(@Res({ passthrough: true }) reply: FastifyReply) {
    const ready = this.readiness.isReady();
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'unavailable', service: this.service, checks: this.readiness.checks() };
  }
}
