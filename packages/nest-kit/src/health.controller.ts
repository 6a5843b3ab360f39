import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Readiness } from './readiness';

/** Injection token of the service name shown by `GET /health`. */
export const SERVICE_NAME = Symbol('SERVICE_NAME');

/** Longest a probe (database ping, outbox count) may take before its part counts as down. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Health on @nestjs/terminus. `GET /health` is readiness: 200 `{status:'ok', service, checks}` once
 * every part of {@link Readiness} is ready and every probe passes, else 503
 * `{status:'unavailable', ...}` with the failing part's reason (and while shutting down).
 * `GET /health/live` is liveness: 200 while the process serves requests at all.
 *
 * @example
 * curl -s 127.0.0.1:3004/health        # {"status":"ok","service":"wallet","checks":{"db":"ok"}}
 * curl -s 127.0.0.1:3004/health/live   # {"status":"ok","service":"wallet"}
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
  ) {}

  @Get('health')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const marked = Object.entries(this.readiness.checks()).map(
      ([part, state]): HealthIndicatorFunction =>
        () => (state === 'ok' ? this.indicators.check(part).up() : this.indicators.check(part).down(state)),
    );
    const probed = [...this.readiness.probed()].map(
      ([part, probe]): HealthIndicatorFunction =>
        () =>
          this.indicators
            .check(part)
            .attempt(async () => {
              await probe();
            })
            .withTimeout(PROBE_TIMEOUT_MS),
    );
    let result: HealthCheckResult;
    try {
      result = await this.health.check([...marked, ...probed]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      result = err.getResponse() as HealthCheckResult;
    }
    const ready = result.status === 'ok' && this.readiness.isReady();
    void reply.status(ready ? 200 : 503);
    const checks: Record<string, string> = {};
    for (const [part, detail] of Object.entries(result.details)) {
      checks[part] = detail.status === 'up' ? 'ok' : String(detail.message ?? detail.error ?? 'down');
    }
    return { status: ready ? 'ok' : 'unavailable', service: this.service, checks };
  }

  @Get('health/live')
  live() {
    return { status: 'ok', service: this.service };
  }
}
