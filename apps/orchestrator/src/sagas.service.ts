import { AppError, ErrorCode } from '@saga/contracts';
import { enqueueOutbox } from '@saga/messaging';
import type { Database, Queryable } from '@saga/postgres';
import type { SagaEngine, SagaEvent } from '@saga/saga';
import { decodeCursor, pageOf } from '@saga/nest-kit';
import type { SagaListFilter, SagaQueryRepository } from './postgres/saga-query.repository';
import { commandMessages } from './saga-commands';
import { historyView, sagaView, stepTimeline, type SagaView } from './saga.view';

/** Operator view and actions on sagas. */
export class SagasService {
  constructor(
    private readonly db: Database,
    private readonly engine: SagaEngine<Queryable>,
    private readonly relay: { wake(): void },
    private readonly queries: SagaQueryRepository,
  ) {}

  /** A page of sagas, keyset-paged by (created_at, id). */
  async list(f: Omit<SagaListFilter, 'after'> & { cursor?: string }) {
    const after = decodeCursor(f.cursor, 2) as [string, string] | undefined;
    const rows = await this.queries.list({ ...f, limit: f.limit + 1, after });
    return pageOf(rows, f.limit, (r) => r.key, (r) => sagaView(r.instance));
  }

  async get(id: string) {
    const instance = await this.queries.get(id);
    if (!instance) throw new AppError(ErrorCode.NotFound, `saga ${id} not found`);
    const history = await this.queries.history(id);
    let def = null;
    try {
      def = this.engine.definition(instance.type);
    } catch {
      // a saga of a type this version no longer defines: show its history as recorded
    }
    return { ...sagaView(instance), steps: stepTimeline(def, history), history: history.map(historyView) };
  }

  /** Sagas ended per second by outcome over the last `seconds` (the operator's live chart). */
  async stats(seconds: number) {
    return { seconds, buckets: await this.queries.outcomesPerSecond(seconds) };
  }

  /**
   * Operator retry: a RUNNING saga re-sends its current step's command now; a COMPENSATION_FAILED
   * one re-sends the stuck compensation. 404 unknown, 409 any other status.
   */
  async retry(id: string): Promise<SagaView> {
    const current = await this.queries.get(id);
    const kind = current?.status === 'RUNNING' ? 'retryStep' : 'retryCompensation';
    return this.act({ kind, sagaId: id });
  }

  /** Operator cancel of a RUNNING saga before its pivot: it compensates through the engine. 404 / 409. */
  async cancel(id: string, reason?: string): Promise<SagaView> {
    return this.act({ kind: 'cancel', sagaId: id, reason });
  }

  /** Applies one operator event in a transaction and publishes its commands through the outbox. */
  private async act(event: SagaEvent): Promise<SagaView> {
    const result = await this.db.transaction(async (tx) => {
      const [outcome] = await this.engine.apply(tx, [event]);
      if (!outcome.instance) throw new AppError(ErrorCode.NotFound, `saga ${event.sagaId} not found`);
      if (outcome.ignored) throw new AppError(ErrorCode.Conflict, outcome.ignored, { status: outcome.instance.status });
      const messages = commandMessages([outcome], [null]);
      await enqueueOutbox(tx, messages);
      return outcome.instance;
    });
    this.relay.wake();
    return sagaView(result);
  }
}
