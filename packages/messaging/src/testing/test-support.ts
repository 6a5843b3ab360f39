import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { dropDatabase, ensureDatabase, migrate, PgDatabase } from '@saga/postgres';
import { MESSAGING_MIGRATIONS } from '../messaging.migrations';

export const PG_SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');

/** A quiet logger for tests; LOG_LEVEL=debug shows what the code logs. */
export function testLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}

export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A private database `it_messaging_<random>` with the messaging tables; drop() removes it. */
export async function createTestDatabase(extraSql?: string): Promise<{ db: PgDatabase; name: string; drop: () => Promise<void> }> {
  const name = `it_messaging_${randomSuffix()}`;
  const url = await ensureDatabase(PG_SERVER_URL, name);
  const db = new PgDatabase({ connectionString: url, max: 12 });
  await migrate(db, MESSAGING_MIGRATIONS);
  if (extraSql) await db.query(extraSql);
  return {
    db,
    name,
    drop: async () => {
      await db.close().catch(() => undefined);
      await dropDatabase(PG_SERVER_URL, name);
    },
  };
}

/** A logger that keeps its records, to wait for something the code logs (e.g. a failed round). */
export function capturingLogger(): { logger: Logger; records: { level: number; msg: string; [k: string]: unknown }[] } {
  const records: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line)) });
  return { logger, records };
}
