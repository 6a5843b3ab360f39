// `npm run reset`: back to a fresh demo. Drops the demo databases and deletes the demo Kafka's data
// (stopping that broker first when its pid file says it runs). Test databases are not touched.
//
// Env: DATABASE_URL (postgres://postgres@127.0.0.1:5432), KAFKA_DATA_DIR (.data/kafka),
// STACK_DB_PREFIX (drop `<prefix>_<service>_db` instead, as `start:kafka` with that prefix made them).
import { existsSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { dropDatabase } from '@saga/postgres';
import pg from 'pg';
import { REPO_ROOT, runningPid, stopKafka } from '../kafka/kafka.ts';

const SERVICES = ['order', 'inventory', 'payment', 'wallet', 'orchestrator'] as const;

/** The databases of the demo stack (each service's default DB_NAME), or of a prefixed stack. */
export function demoDatabases(prefix?: string): string[] {
  return SERVICES.map((s) => (prefix ? `${prefix}_${s}_db` : `${s}_db`));
}

function say(message: string): void {
  console.log(`[reset] ${message}`);
}

async function databaseExists(serverUrl: string, name: string): Promise<boolean> {
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

async function main(): Promise<number> {
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const dataDir = resolve(process.env.KAFKA_DATA_DIR ?? join(REPO_ROOT, '.data/kafka'));
  let failed = false;

  for (const name of demoDatabases(process.env.STACK_DB_PREFIX || undefined)) {
    try {
      const existed = await databaseExists(serverUrl, name);
      await dropDatabase(serverUrl, name);
      say(existed ? `dropped database ${name}` : `database ${name} did not exist`);
    } catch (err) {
      failed = true;
      console.error(`[reset] could not drop ${name} on ${new URL(serverUrl).host}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const pid = runningPid(dataDir);
  if (pid !== undefined) {
    await stopKafka({ dataDir });
    say(`stopped Kafka (pid ${pid})`);
  }
  const shown = dataDir.startsWith(`${REPO_ROOT}/`) ? relative(REPO_ROOT, dataDir) : dataDir;
  if (existsSync(dataDir)) {
    rmSync(dataDir, { recursive: true, force: true });
    say(`deleted Kafka data ${shown}`);
  } else {
    say(`no Kafka data at ${shown}`);
  }
  if (pid !== undefined) say('start Kafka again with: npm run kafka:start (or npm run start:kafka for everything)');
  return failed ? 1 : 0;
}

if (import.meta.main) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`[reset] ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
