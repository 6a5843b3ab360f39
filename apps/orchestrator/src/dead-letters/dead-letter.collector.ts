import type { MessageBroker, Subscription } from '@saga/messaging';
import type { Database } from '@saga/postgres';
import type { Logger } from 'pino';
import type { DeadLetterRepository } from './dead-letter.repository';

export interface DeadLetterCollectorOptions {
  broker: MessageBroker;
  db: Database;
  repository: DeadLetterRepository;
  /** The `<topic>.dlq` topics to read. */
  topics: readonly string[];
  groupId: string;
  logger: Logger;
}

/**
 * Reads every dead-letter topic into the `dead_letters` table so operators can browse and replay
 * them. Each batch is one transaction; offsets are committed only after it commits, and a record
 * already stored (same DLQ position) is skipped, so redelivery changes nothing. This consumer does
 * not go through the envelope check or the message-id inbox of the transactional consumer on
 * purpose: a malformed letter (no valid message id) must be stored too, never dead-lettered again.
 *
 * @example
 * const sub = await startDeadLetterCollector({ broker, db, repository, topics: ['inventory.commands.dlq'], groupId: 'orchestrator-dead-letters', logger });
 */
export async function startDeadLetterCollector(o: DeadLetterCollectorOptions): Promise<Subscription> {
  const logger = o.logger.child({ component: 'dead-letter-collector' });
  return o.broker.subscribe({
    groupId: o.groupId,
    topics: o.topics,
    handler: async (batch) => {
      const stored = await o.db.transaction((tx) => o.repository.insertBatch(tx, batch));
      if (stored > 0) logger.warn({ stored, topics: [...new Set(batch.map((m) => m.topic))] }, 'dead letters received');
    },
  });
}
