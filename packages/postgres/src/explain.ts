import type { Database } from './database';

/**
 * The rows of `<explain> <sql>` (e.g. `EXPLAIN (FORMAT JSON)`) under PostgreSQL's default planner
 * settings rather than the services' session settings ({@link PgDatabase} turns sequential scans off):
 * for tests that check a statement's plan holds on its own.
 *
 * @example
 * const rows = await explainAsDefault<{ 'QUERY PLAN': string }>(db, 'EXPLAIN', LOAD_SQL, [ids]);
 */
export async function explainAsDefault<R>(db: Database, explain: string, sql: string, params: readonly unknown[]): Promise<R[]> {
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL enable_seqscan = on');
    return (await tx.query<R>(`${explain} ${sql}`, params)).rows;
  });
}
