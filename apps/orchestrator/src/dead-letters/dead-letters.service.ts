import { decodeCursor, pageOf } from '@saga/nest-kit';
import { AppError, ErrorCode, uuidv7, type Envelope } from '@saga/contracts';
import { enqueueOutbox, type OutgoingMessage } from '@saga/messaging';
import type { Database } from '@saga/postgres';
import type { DeadLetterFilter, DeadLetterRepository, DeadLetterRow } from './dead-letter.repository';

/** Headers a replayed message carries: where it came from. */
export const REPLAY_HEADERS = {
  /** Message id of the dead-lettered original. */
  replayOf: 'replay-of-message-id',
  /** Id of the dead_letters row that was replayed. */
  deadLetterId: 'replay-of-dead-letter',
} as const;

/**
 * The message a replay publishes: the original (key, payload, envelope metadata and its own extra
 * headers) on its original topic, without the `dlq-*` headers, under a NEW message id — the consumer
 * recorded the original id in its inbox when it dead-lettered it, so the same id would be skipped.
 */
export function replayMessage(letter: DeadLetterRow, newId: string): OutgoingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(letter.headers)) if (!name.startsWith('dlq-')) headers[name] = value;
  if (letter.messageId) headers[REPLAY_HEADERS.replayOf] = letter.messageId;
  headers[REPLAY_HEADERS.deadLetterId] = letter.id;
  const envelope = { ...letter.envelope, id: newId } as Envelope;
  return { topic: letter.originalTopic, key: letter.key, envelope, headers };
}

const ID = /^[1-9][0-9]{0,17}$/;

/** Operator API over the dead letters: browse, inspect, replay once. */
export class DeadLettersService {
  constructor(
    private readonly db: Database,
    private readonly repository: DeadLetterRepository,
    private readonly relay: { wake(): void },
  ) {}

  /** A page of dead letters (keyset by id), with the total and pending counts. */
  async list(f: Omit<DeadLetterFilter, 'afterId'> & { cursor?: string }) {
    const afterId = decodeCursor(f.cursor, 1)?.[0].toString();
    const rows = await this.repository.list(this.db, { ...f, limit: f.limit + 1, afterId });
    return { ...pageOf(rows, f.limit, (r) => [r.id]), ...(await this.repository.count(this.db)) };
  }

  async get(id: string): Promise<DeadLetterRow> {
    const row = ID.test(id) ? await this.repository.get(this.db, id) : null;
    if (!row) throw new AppError(ErrorCode.NotFound, `dead letter ${id} not found`);
    return row;
  }

  /**
   * Republishes the letter's original message to its original topic through the outbox (in the
   * transaction that marks the letter replayed) — 404 unknown, 409 if already replayed.
   */
  async replay(id: string): Promise<DeadLetterRow> {
    if (!ID.test(id)) throw new AppError(ErrorCode.NotFound, `dead letter ${id} not found`);
    const row = await this.db.transaction(async (tx) => {
      const letter = await this.repository.get(tx, id, true);
      if (!letter) throw new AppError(ErrorCode.NotFound, `dead letter ${id} not found`);
      if (letter.replayedAt !== null) {
        throw new AppError(ErrorCode.Conflict, `dead letter ${id} was already replayed at ${letter.replayedAt}`, {
          replayedAt: letter.replayedAt,
          replayMessageId: letter.replayMessageId,
        });
      }
      const newId = uuidv7();
      await enqueueOutbox(tx, [replayMessage(letter, newId)]);
      const replayedAt = await this.repository.markReplayed(tx, id, newId);
      return { ...letter, replayedAt: replayedAt.toISOString(), replayMessageId: newId };
    });
    this.relay.wake();
    return row;
  }
}
