import { ensureDatabase, migrate, PgDatabase, type Migration } from '@saga/postgres';

/**
 * Creates the service's database if needed, opens a pool on it and applies its migrations.
 *
 * @example
 * const db = await openServiceDatabase({
 *   serverUrl: env.DATABASE_URL, name: env.DB_NAME, migrations: [...MESSAGING_MIGRATIONS, ...WALLET_MIGRATIONS],
 * });
 */
export async function openServiceDatabase(o: {
  serverUrl: string;
  name: string;
  migrations: readonly Migration[];
  poolSize?: number;
}): Promise<PgDatabase> {
  const url = await ensureDatabase(o.serverUrl, o.name);
  const db = new PgDatabase({ connectionString: url, max: o.poolSize ?? 10 });
  try {
    await migrate(db, o.migrations);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}
