/**
 * Brings an opened store up to this code's schema: reads `meta.schema_version` (0 for a new,
 * empty file), refuses a store written by newer code, and applies each missing migration in its
 * own transaction together with its version bump, so a crash mid-upgrade leaves the store at the
 * last version that completed and the next open carries on from there.
 */
import type Database from 'better-sqlite3';
import { CohortError } from '../../core/protocol/errors.js';
import { MIGRATIONS, type Migration } from './schema.js';

/** The store's schema version: 0 when it has no meta table yet (a new file). */
export function schemaVersion(db: Database.Database): number {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  if (!hasMeta) return 0;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  const version = row === undefined ? Number.NaN : Number(row.value);
  if (!Number.isInteger(version) || version < 1) {
    throw new CohortError('E_STORE', `the store's schema_version is ${row === undefined ? 'missing' : JSON.stringify(row.value)}; it is not a Cohort run store`);
  }
  return version;
}

/**
 * Applies the migrations above the store's version; returns the versions applied (none when the
 * store is current). Throws E_STORE_VERSION for a store newer than this code.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const target = migrations.at(-1)?.version ?? 0;
  const current = schemaVersion(db);
  if (current > target) {
    throw new CohortError(
      'E_STORE_VERSION',
      `the run store has schema version ${current}, newer than this Cohort's ${target}: it was written by a newer release; upgrade Cohort to open it`,
      { details: { storeVersion: current, codeVersion: target } },
    );
  }
  if (current === 0) refuseForeignDatabase(db);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(
        String(migration.version),
      );
    })();
    applied.push(migration.version);
  }
  return applied;
}

/** A file with tables but no meta is some other program's database: do not add ours to it. */
function refuseForeignDatabase(db: Database.Database): void {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>;
  if (tables.length > 0) {
    throw new CohortError('E_STORE', `the file holds other tables (${tables.slice(0, 5).map((t) => t.name).join(', ')}) and no Cohort schema_version; it is not a run store`);
  }
}
