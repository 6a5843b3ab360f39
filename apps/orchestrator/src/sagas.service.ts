import { AppError, ErrorCode } from '@saga/contracts';
import { enqueueOutbox } from '@saga/messaging';
import type { Database, Transaction } from '@saga/postgres';
import type { SagaEngine, SagaEvent, SagaInstance } from '@saga/saga';
import { decodeCursor, pageOf } from '@saga/nest-kit';
import type { ParkedEventsRepository } from './postgres/parked-events.repository';
import type { SagaListFilter, SagaQueryRepository } from './postgres/saga-query.repository';
import { commandMessages } from './saga-commands';
import { historyView, sagaView, stepTimeline, type SagaView } from './saga.view';

/** Operator view and actions on sagas. */
export class SagasService {
  constructor(
    private readonly db: Database,
    private readonly engine: SagaEngine<Transaction>,
    private readonly relay: { wake(): void },
    private readonly queries: SagaQueryRepository,
    private readonly parked: ParkedEventsRepository,
  ) {}

  private view(i: SagaInstance): SagaView {
    return sagaView(i, (type, version) => this.engine.isRegistered(type, version));
  }

  /** A page of sagas, keyset-paged by (created_at, id); `versionMissing` keeps the ones waiting for their definition version. */
  async list(f: Omit<SagaListFilter, 'after' | 'versionMissing'> & { cursor?: string; versionMissing?: boolean }) {
    const after = decodeCursor(f.cursor, 2) as [string, string] | undefined;
    const rows = await this.queries.list({ ...f, limit: f.limit + 1, after, versionMissing: f.versionMissing ? this.engine.registered() : undefined });
    return pageOf(rows, f.limit, (r) => r.key, (r) => this.view(r.instance));
  }

  async get(id: string) {
    const instance = await this.queries.get(id);
    if (!instance) throw new AppError(ErrorCode.NotFound, `saga ${id} not found`);
    const history = await this.queries.history(id);
    // the saga's own definition version; one not registered here: its history as recorded
    const def = this.engine.isRegistered(instance.type, instance.definitionVersion)
      ? this.engine.definition(instance.type, instance.definitionVersion)
      : null;
    const parkedEvents = await this.parked.countOf(this.db, id);
    return { ...this.view(instance), parkedEvents, steps: stepTimeline(def, history), history: history.map(historyView) };
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
      if (outcome.parked) {
        const { type, definitionVersion } = outcome.instance;
        throw new AppError(ErrorCode.Conflict, `${outcome.parked}: register ${type} v${definitionVersion} again (PLACE_ORDER_SAGA_VERSIONS) to resume, retry or cancel it`, {
          status: outcome.instance.status,
          definitionVersion,
          versionMissing: true,
        });
      }
      if (outcome.ignored) throw new AppError(ErrorCode.Conflict, outcome.ignored, { status: outcome.instance.status });
      const messages = commandMessages([outcome], [null]);
      await enqueueOutbox(tx, messages);
      return outcome.instance;
    });
    this.relay.wake();
    return this.view(result);
  }
}
