import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';

export interface OpenPgliteOptions {
  /**
   * PostgreSQL's `shared_buffers` (PGlite's default is 128MB). Measured: 16MB takes an opened empty
   * database from ~380 to ~275 MB resident. It is set with ALTER SYSTEM, which takes effect at the
   * next start, so a database created with another value is reopened once.
   */
  sharedBuffers?: string;
}

/**
 * Opens (creating on first use) a PGlite database persisted in `dataDir`; `undefined` keeps it in
 * memory. One process at a time may open a directory. PGlite is loaded here, on first use, so the
 * services on a PostgreSQL server never load it.
 *
 * @example
 * const pg = await openPglite('.data/embedded/pglite', { sharedBuffers: '16MB' });
 */
export async function openPglite(dataDir: string | undefined, o: OpenPgliteOptions = {}): Promise<PGlite> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const { PGlite: Pglite } = await import('@electric-sql/pglite');
  const open = async (): Promise<PGlite> => {
    const pg = await Pglite.create(dataDir === undefined ? {} : { dataDir });
    // The same class, typed once from the package's ESM and once from its CommonJS declarations.
    return pg as unknown as PGlite;
  };
  const pg = await open();
  if (o.sharedBuffers === undefined || dataDir === undefined) return pg;
  if (!/^\d+(kB|MB|GB)$/.test(o.sharedBuffers)) throw new Error(`invalid shared_buffers ${o.sharedBuffers}`);
  const { rows } = await pg.query<{ value: string }>("SELECT current_setting('shared_buffers') AS value");
  if (rows[0]?.value === o.sharedBuffers) return pg;
  await pg.exec(`ALTER SYSTEM SET shared_buffers = '${o.sharedBuffers}'`);
  await pg.close();
  return open();
}
