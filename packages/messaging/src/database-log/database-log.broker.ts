import type { Database } from '@saga/postgres';
import { LogBroker, type LogBrokerOptions } from '../log/log.broker';
import { DatabaseLogStore } from './database-log.store';

/**
 * The message bus in-process (see {@link LogBroker}) with its log in SQL tables, so nothing is lost
 * when the process dies: a message `send` resolved for stays until every group subscribed to its
 * topic has handled it, and a group resumes after restart from its last committed position. The
 * embedded mode runs it on the `bus` schema of its PGlite database.
 *
 * @example
 * const broker = await DatabaseLogBroker.open(await PgliteDatabase.open(pg, 'bus'));
 */
export class DatabaseLogBroker extends LogBroker {
  static async open(db: Database, o: LogBrokerOptions = {}): Promise<DatabaseLogBroker> {
    return new DatabaseLogBroker(await DatabaseLogStore.open(db), o);
  }
}
