// `npm run reset`: back to a fresh demo. Drops the demo databases, deletes the demo Kafka's data
// (stopping that broker first when its pid file says it runs) and the embedded mode's data (`npm start`;
// refused while that process runs) and the data of `npm run start:cluster`'s three Kafka nodes (refused
// while they run). Test databases are not touched.
//
// Env: DATABASE_URL (postgres://postgres@127.0.0.1:5432), KAFKA_DATA_DIR (.data/kafka), EMBEDDED_DATA_DIR (.data/embedded),
// CLUSTER_DATA_DIR (.data/cluster),
// STACK_DB_PREFIX (drop `<prefix>_<service>_db` instead, as `start:kafka` with that prefix made them).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { dropDatabase } from '@saga/postgres';
import pg from 'pg';
import { PID_FILE, embeddedDataDir } from '../embedded/layout.ts';
import { REPO_ROOT, isAlive, runningPid, stopKafka } from '../kafka/kafka.ts';
import { clusterDataDir, runningClusterPids } from '../kafka/cluster.ts';

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

/** Deletes the embedded mode's data dir, unless an `npm start` holds it (PGlite would be cut from under it). */
function clearEmbedded(dir: string): boolean {
  const shown = dir.startsWith(`${REPO_ROOT}/`) ? relative(REPO_ROOT, dir) : dir;
  if (!existsSync(dir)) {
    say(`no embedded data at ${shown}`);
    return true;
  }
  const pidFile = join(dir, PID_FILE);
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(pid) && isAlive(pid)) {
    console.error(`[reset] ${shown} is in use by npm start (pid ${pid}): stop it first (Ctrl-C)`);
    return false;
  }
  rmSync(dir, { recursive: true, force: true });
  say(`deleted embedded data ${shown}`);
  return true;
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
      // No PostgreSQL server at all (a machine that only runs `npm start`): nothing to drop there.
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
        say(`no PostgreSQL at ${new URL(serverUrl).host}: no demo databases to drop`);
        break;
      }
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
  if (!clearEmbedded(resolve(embeddedDataDir()))) failed = true;
  if (!clearCluster(clusterDataDir())) failed = true;
  return failed ? 1 : 0;
}

/** Deletes the cluster's data (`npm run start:cluster`), unless its nodes run (their supervisor would restart them on nothing). */
function clearCluster(dir: string): boolean {
  const shown = dir.startsWith(`${REPO_ROOT}/`) ? relative(REPO_ROOT, dir) : dir;
  if (!existsSync(dir)) {
    say(`no cluster data at ${shown}`);
    return true;
  }
  const pids = runningClusterPids(dir);
  if (pids.length > 0) {
    console.error(`[reset] the cluster's Kafka nodes run (pids ${pids.join(', ')}): stop npm run start:cluster first (Ctrl-C); ${shown} kept`);
    return false;
  }
  rmSync(dir, { recursive: true, force: true });
  say(`deleted cluster data ${shown}`);
  return true;
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
