import { enqueueOutbox } from '@saga/messaging';
import { PeriodicRound } from '@saga/nest-kit';
import type { Database, Transaction } from '@saga/postgres';
import type { SagaEngine } from '@saga/saga';
import type { Logger } from 'pino';
import { serviceLabel } from '@saga/telemetry';
import { commandMessages } from './saga-commands';
import { recordSagaOutcomes } from './saga.metrics';

export interface SagaTimerPollerOptions {
  db: Database;
  engine: SagaEngine<Transaction>;
  /** Told to publish right after a round that enqueued commands. */
  relay: { wake(): void };
  logger: Logger;
  intervalMs?: number;
  batchSize?: number;
}

/**
 * The durable timers: every `intervalMs` claims the sagas whose deadline passed (FOR UPDATE SKIP
 * LOCKED, so several orchestrator instances share the work) and fires them in one transaction with
 * the outbox rows of the re-sent commands / compensations. Runs again at once while rounds are full.
 */
export class SagaTimerPoller {
  private readonly service: string;
  private readonly rounds: PeriodicRound<number>;

  constructor(private readonly o: SagaTimerPollerOptions) {
    this.service = serviceLabel(o.logger);
    const batchSize = o.batchSize ?? 200;
    this.rounds = new PeriodicRound(() => this.fireDue(), {
      intervalMs: o.intervalMs ?? 200,
      onError: (err) => o.logger.error({ err }, 'saga timer round failed'),
      again: (fired) => fired >= batchSize, // a backlog: keep going
    });
  }

  start(): void {
    this.rounds.start(0);
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One round; returns how many timers fired. */
  async fireDue(): Promise<number> {
    const limit = this.o.batchSize ?? 200;
    const sent = await this.o.db.transaction(async (tx) => {
      const outcomes = await this.o.engine.fireDueTimers(tx, limit);
      const messages = commandMessages(outcomes, []);
      await enqueueOutbox(tx, messages);
      return { fired: outcomes.length, messages: messages.length, outcomes };
    });
    recordSagaOutcomes(this.service, sent.outcomes);
    if (sent.messages > 0) this.o.relay.wake();
    if (sent.fired > 0) this.o.logger.debug({ fired: sent.fired, commands: sent.messages }, 'saga timers fired');
    return sent.fired;
  }
}
