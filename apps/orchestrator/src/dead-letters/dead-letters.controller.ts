import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { setNextLink, PAGE_QUERY, parseWith } from '@saga/nest-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DeadLettersService } from './dead-letters.service';

const ListDeadLettersQuery = z.strictObject({
  topic: z.string().min(1).max(249).optional(),
  replayed: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  sagaId: z.string().min(1).max(200).optional(),
  ...PAGE_QUERY,
});

/** Operator API: the dead-letter messages of every `*.dlq` topic, and their replay. */
@Controller('api/dead-letters')
export class DeadLettersController {
  constructor(@Inject(DeadLettersService) private readonly deadLetters: DeadLettersService) {}

  /** A page of dead letters, keyset-paged by id; `Link: <…>; rel="next"` while there are more. */
  @Get()
  async list(@Query() query: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const q = parseWith(ListDeadLettersQuery, query, 'query');
    const page = await this.deadLetters.list({ originalTopic: q.topic, replayed: q.replayed, sagaId: q.sagaId, limit: q.limit, cursor: q.cursor, sort: q.sort });
    setNextLink(req, res, page);
    return page;
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
