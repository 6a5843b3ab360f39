// A PostgreSQL cluster of the chaos run's own (Debian's initdb / pg_ctl, on a port of its own), so a
// fault can stop and start it without touching the machine's server or the demo's data. As root the
// server runs as the `postgres` user (initdb refuses root); the data directory is given to that user.
import { execFileSync, spawnSync } from 'node:child_process';
import { ensureDebianPackage } from '../system/debian-packages.ts';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Crash stop (`pg_ctl stop -m immediate`: no checkpoint, WAL replay on start), as a power cut would. */
  crash(): void;
  start(): void;
  /** Fast shutdown; the data directory stays (under the run's directory). */
  stop(): void;
}

/** The newest installed server's bin directory; installs Debian's server package when there is none. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const find = (): string | undefined => {
    if (!existsSync(root)) return undefined;
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/initdb'))).sort((a, b) => Number(b) - Number(a));
    return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
  };
  return ensureDebianPackage(find, 'postgresql');
}

/**
 * Creates (initdb, trust auth on 127.0.0.1 only) and starts a cluster in `dataDir` on `port`.
 *
 * @example
 * const pg = startPostgresCluster('.data/chaos/run-1/pg', 25432);
 * pg.crash(); pg.start();
 */
export function startPostgresCluster(dataDir: string, port: number): PostgresCluster {
  const bin = binDir();
  const asRoot = userInfo().uid === 0;
  const run = (tool: string, args: string[]): void => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  const pgdata = join(dataDir, 'pgdata');
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    mkdirSync(pgdata, { recursive: true });
    if (asRoot) {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
      for (const d of [dataDir, pgdata]) chownSync(d, uid, gid);
    }
    run('initdb', ['-D', pgdata, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  }
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${pgdata} -c max_connections=200 -c shared_buffers=64MB`;
  const start = (): void => run('pg_ctl', ['-D', pgdata, '-o', options, '-l', join(pgdata, 'server.log'), '-w', '-t', '60', 'start']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}`,
    port,
    crash: () => run('pg_ctl', ['-D', pgdata, '-m', 'immediate', '-w', 'stop']),
    start,
    stop: () => run('pg_ctl', ['-D', pgdata, '-m', 'fast', '-w', '-t', '60', 'stop']),
  };
}
