import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { parseWith } from '@saga/nest-kit';
import { SAGA_STATUSES, type SagaStatus } from '@saga/saga';
import { z } from 'zod';
import { SagasService } from './sagas.service';

const ListSagasQuery = z.object({
  status: z.enum(SAGA_STATUSES as [SagaStatus, ...SagaStatus[]]).optional(),
  type: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Operator API: list, inspect (with step timeline and history), retry a stuck compensation. */
@Controller('api/sagas')
export class SagasController {
  constructor(@Inject(SagasService) private readonly sagas: SagasService) {}

  @Get()
  list(@Query() query: unknown) {
    return this.sagas.list(parseWith(ListSagasQuery, query));
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
}
