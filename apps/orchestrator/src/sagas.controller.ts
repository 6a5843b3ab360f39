import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { parseWith } from '@saga/nest-kit';
import { SAGA_STATUSES, type SagaStatus } from '@saga/saga';
import { z } from 'zod';
import { SagasService } from './sagas.service';

const ListSagasQuery = z.object({
  status: z.enum(SAGA_STATUSES as [SagaStatus, ...SagaStatus[]]).optional(),
  type: z.string().min(1).optional(),
  minAgeSeconds: z.coerce.number().min(0).max(31_536_000).optional(),
  maxAgeSeconds: z.coerce.number().min(0).max(31_536_000).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const StatsQuery = z.object({ seconds: z.coerce.number().int().min(1).max(3_600).default(60) });
const CancelBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }).optional();

/** Operator API: list (by status, type and age), inspect (step timeline and history), outcome rates, retry, cancel. */
@Controller('api/sagas')
export class SagasController {
  constructor(@Inject(SagasService) private readonly sagas: SagasService) {}

  @Get()
  list(@Query() query: unknown) {
    return this.sagas.list(parseWith(ListSagasQuery, query));
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
