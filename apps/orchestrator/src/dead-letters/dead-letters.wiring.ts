import type { MessageBroker, Subscription } from '@saga/messaging';
import type { Database } from '@saga/postgres';
import type { Logger } from 'pino';
import { startDeadLetterCollector } from './dead-letter.collector';
import { DeadLetterRepository } from './dead-letter.repository';
import { DeadLettersService } from './dead-letters.service';

/**
 * The orchestrator's dead-letter part in one call: the operator service now, and `start()` for the
 * collector (consumer group `<group>-dead-letters`) once the app is up. Kept apart from main.ts so
 * every way of starting the orchestrator wires it the same.
 */
export function deadLetters(o: { broker: MessageBroker; db: Database; relay: { wake(): void }; topics: readonly string[]; groupId: string; logger: Logger }) {
  const repository = new DeadLetterRepository();
  const service = new DeadLettersService(o.db, repository, o.relay);
  return {
    service,
    start: (): Promise<Subscription> =>
      startDeadLetterCollector({ broker: o.broker, db: o.db, repository, topics: o.topics, groupId: `${o.groupId}-dead-letters`, logger: o.logger }),
  };
}
