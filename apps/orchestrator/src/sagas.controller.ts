import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { setNextLink, PAGE_QUERY, parseWith } from '@saga/nest-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SAGA_STATUSES, type SagaStatus } from '@saga/saga';
import { z } from 'zod';
import { SagasService } from './sagas.service';

const ListSagasQuery = z.strictObject({
  status: z.enum(SAGA_STATUSES as [SagaStatus, ...SagaStatus[]]).optional(),
  type: z.string().min(1).optional(),
  minAgeSeconds: z.coerce.number().min(0).max(31_536_000).optional(),
  maxAgeSeconds: z.coerce.number().min(0).max(31_536_000).optional(),
  /** true: only the unfinished sagas whose definition version is not registered (they wait for it). */
  versionMissing: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  ...PAGE_QUERY,
});

const StatsQuery = z.object({ seconds: z.coerce.number().int().min(1).max(3_600).default(60) });
const CancelBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }).optional();

/** Operator API: list (by status, type, age and missing definition version), inspect (step timeline and history), outcome rates, retry, cancel. */
@Controller('api/sagas')
export class SagasController {
  constructor(@Inject(SagasService) private readonly sagas: SagasService) {}

  /** A page of sagas, keyset-paged by creation; `Link: <…>; rel="next"` while there are more. */
  @Get()
  async list(@Query() query: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const page = await this.sagas.list(parseWith(ListSagasQuery, query, 'query'));
    setNextLink(req, res, page);
    return page;
  }

  @Get('stats')
  stats(@Query() query: unknown) {
    return this.sagas.stats(parseWith(StatsQuery, query).seconds);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.sagas.get(id);
  }

  @Post(':id/retry')
  @HttpCode(200)
  retry(@Param('id') id: string) {
    return this.sagas.retry(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string, @Body() body: unknown) {
    return this.sagas.cancel(id, parseWith(CancelBody, body ?? undefined)?.reason);
  }
}
