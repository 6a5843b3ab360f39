// Where the embedded mode keeps its data, shared by the runner, the invariant checker and reset.
import { join } from 'node:path';
import { REPO_ROOT } from '../kafka/kafka.ts';

export const DEFAULT_EMBEDDED_DATA_DIR = join(REPO_ROOT, '.data/embedded');
/** The PGlite database inside the data dir (a directory PGlite owns). */
export const PGLITE_DIR = 'pglite';
/** Schema of the durable message log; each service's schema is named like its database (`order_db`, ...). */
export const BUS_SCHEMA = 'bus';
/** Pid of the process holding the data dir (PGlite is one process's database). */
export const PID_FILE = 'embedded.pid';

/** EMBEDDED_DATA_DIR, else .data/embedded. */
export function embeddedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EMBEDDED_DATA_DIR ?? DEFAULT_EMBEDDED_DATA_DIR;
}
