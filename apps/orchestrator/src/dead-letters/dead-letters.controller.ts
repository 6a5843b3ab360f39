import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { parseWith } from '@saga/nest-kit';
import { z } from 'zod';
import { DeadLettersService } from './dead-letters.service';

const ListDeadLettersQuery = z.object({
  topic: z.string().min(1).max(249).optional(),
  replayed: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  sagaId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Operator API: the dead-letter messages of every `*.dlq` topic, and their replay. */
@Controller('api/dead-letters')
export class DeadLettersController {
  constructor(@Inject(DeadLettersService) private readonly deadLetters: DeadLettersService) {}

  @Get()
  list(@Query() query: unknown) {
    const q = parseWith(ListDeadLettersQuery, query, 'query');
    return this.deadLetters.list({ originalTopic: q.topic, replayed: q.replayed, sagaId: q.sagaId, limit: q.limit, offset: q.offset });
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.deadLetters.get(id);
  }

  @Post(':id/replay')
  @HttpCode(200)
  replay(@Param('id') id: string) {
    return this.deadLetters.replay(id);
  }
}
