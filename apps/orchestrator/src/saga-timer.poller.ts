import { enqueueOutbox } from '@saga/messaging';
import type { Database, Queryable } from '@saga/postgres';
import type { SagaEngine } from '@saga/saga';
import type { Logger } from 'pino';
import { serviceLabel } from '@saga/telemetry';
import { commandMessages } from './saga-commands';
import { recordSagaOutcomes } from './saga.metrics';

export interface SagaTimerPollerOptions {
  db: Database;
  engine: SagaEngine<Queryable>;
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
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private readonly service: string;

  constructor(private readonly o: SagaTimerPollerOptions) {
    this.service = serviceLabel(o.logger);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
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

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round();
    }, delayMs);
  }

  private async round(): Promise<void> {
    let next = this.o.intervalMs ?? 200;
    try {
      const fired = await this.fireDue();
      if (fired >= (this.o.batchSize ?? 200)) next = 0; // a backlog: keep going
    } catch (err) {
      this.o.logger.error({ err }, 'saga timer round failed');
    }
    this.schedule(next);
  }
}
