import { Client } from 'pg';

const DATABASE_NAME = /^[a-z_][a-z0-9_]*$/;

/** Runs `fn` with a client on the server's `postgres` database (for CREATE / DROP DATABASE). */
async function withAdminClient<T>(serverUrl: string, name: string, fn: (client: Client) => Promise<T>): Promise<T> {
  if (!DATABASE_NAME.test(name)) throw new Error(`invalid database name ${name}`);
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates database `name` on the server of `serverUrl` if it does not exist yet, and returns the
 * URL of that database.
 *
 * @example
 * const url = await ensureDatabase('postgres://postgres@127.0.0.1:5432', 'order_db');
 */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  await withAdminClient(serverUrl, name, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${name}`).catch((err: { code?: string }) => {
        // 42P04 duplicate_database / 23505: another instance created it at the same moment.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  });
  const target = new URL(serverUrl);
  target.pathname = `/${name}`;
  return target.toString();
}

/**
 * Drops database `name` if it exists (closing its connections).
 *
 * @example
 * await dropDatabase('postgres://postgres@127.0.0.1:5432', 'e2e_x_order_db');
 */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withAdminClient(serverUrl, name, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
