import { ensureDatabase, migrate, PgDatabase, type Migration } from '@saga/postgres';

/**
 * Creates the service's database on a PostgreSQL server if needed and opens a pool on it; applies
 * `migrations` when given (the services' start functions apply their own, on whatever database
 * they are handed).
 *
 * @example
 * const db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME, poolSize: env.DB_POOL_SIZE });
 */
export async function openServiceDatabase(o: {
  serverUrl: string;
  name: string;
  migrations?: readonly Migration[];
  poolSize?: number;
}): Promise<PgDatabase> {
  const url = await ensureDatabase(o.serverUrl, o.name);
  const db = new PgDatabase({ connectionString: url, max: o.poolSize ?? 10 });
  if (o.migrations === undefined) return db;
  try {
    await migrate(db, o.migrations);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/**
 * The URL of database `name` on the server of `serverUrl` (e.g. for a LISTEN connection).
 *
 * @example
 * serviceDatabaseUrl('postgres://postgres@127.0.0.1:5432', 'order_db') // 'postgres://postgres@127.0.0.1:5432/order_db'
 */
export function serviceDatabaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
