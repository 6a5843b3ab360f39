import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Opens (creating on first use) a PGlite database persisted in `dataDir`; `undefined` keeps it in
 * memory. One process at a time may open a directory. PGlite is loaded here, on first use, so the
 * services on a PostgreSQL server never load it.
 *
 * @example
 * const pg = await openPglite('.data/embedded/pglite');
 */
export async function openPglite(dataDir: string | undefined): Promise<PGlite> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const { PGlite: Pglite } = await import('@electric-sql/pglite');
  const pg = await Pglite.create(dataDir === undefined ? {} : { dataDir });
  // The same class, typed once from the package's ESM and once from its CommonJS declarations.
  return pg as unknown as PGlite;
}
