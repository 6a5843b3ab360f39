import type { Database } from './database';

/** A frozen migration: `name` is `YYYYMMDDHHMMSS_snake_name`; never edit one that has landed. */
export interface Migration {
  name: string;
  up: string;
}

/**
 * Applies the migrations not yet applied, in name order, each in its own transaction. Several
 * instances starting at once serialise on an advisory lock.
 *
 * @example
 * await migrate(db, [{ name: '20261123090000_create_orders', up: 'CREATE TABLE orders (...)' }]);
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<string[]> {
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(7311001)');
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await tx.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name),
    );
    for (const m of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
      if (done.has(m.name)) continue;
      if (!/^\d{14}_[a-z0-9_]+$/.test(m.name)) throw new Error(`migration name ${m.name} is not YYYYMMDDHHMMSS_snake_name`);
      await tx.query(m.up);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [m.name]);
      applied.push(m.name);
    }
  });
  return applied;
}
