import { enqueueOutbox } from '@saga/messaging';
import { PeriodicRound } from '@saga/nest-kit';
import type { Database, Transaction } from '@saga/postgres';
import type { SagaEngine } from '@saga/saga';
import { serviceLabel } from '@saga/telemetry';
import type { Logger } from 'pino';
import type { ParkedEventsRepository } from './postgres/parked-events.repository';
import { commandMessages } from './saga-commands';
import { recordSagaOutcomes } from './saga.metrics';

export interface ParkedEventsReplayerOptions {
  db: Database;
  engine: SagaEngine<Transaction>;
  parked: ParkedEventsRepository;
  relay: { wake(): void };
  logger: Logger;
  intervalMs: number;
  batchSize?: number;
}

/**
 * Applies the events parked for sagas whose definition version was missing, once this orchestrator
 * has that version (after a deploy that registers it again, or on an instance of a rolling deploy
 * that has it): oldest first, in one transaction with their commands' outbox rows, deleting each
 * one applied (ignored ones too: a late duplicate is done with).
 */
export class ParkedEventsReplayer {
  private readonly service: string;
  private readonly rounds: PeriodicRound<number>;

  constructor(private readonly o: ParkedEventsReplayerOptions) {
    this.service = serviceLabel(o.logger);
    this.rounds = new PeriodicRound(() => this.replay(), {
      intervalMs: o.intervalMs,
      onError: (err) => o.logger.error({ err }, 'parked saga events round failed'),
      again: (n) => n >= (o.batchSize ?? 200),
    });
  }

  start(): void {
    this.rounds.start(0);
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One round; returns how many parked events were applied. */
  async replay(): Promise<number> {
    const { engine, parked } = this.o;
    const done = await this.o.db.transaction(async (tx) => {
      const claimed = await parked.claimReplayable(tx, engine.registered(), this.o.batchSize ?? 200);
      if (claimed.length === 0) return null;
      const outcomes = await engine.apply(tx, claimed.map((p) => p.event));
      const applied = claimed.filter((_, i) => !outcomes[i].parked);
      await parked.delete(tx, applied.map((p) => p.id));
      const messages = commandMessages(outcomes, []);
      await enqueueOutbox(tx, messages);
      return { outcomes, applied: applied.length, messages: messages.length };
    });
    if (!done) return 0;
    recordSagaOutcomes(this.service, done.outcomes);
    if (done.messages > 0) this.o.relay.wake();
    this.o.logger.info({ applied: done.applied, commands: done.messages }, 'parked saga events applied');
    return done.applied;
  }
}
