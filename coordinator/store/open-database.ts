/**
 * Opens the run store's SQLite file: private to its owner (0600, with its -wal and -shm sidecar
 * files), in WAL mode, with foreign keys on, and migrated to this code's schema.
 *
 * The store holds who took part in which run, their reward totals and the model itself, so it is
 * no business of other local users. SQLite creates a new file 0644 (less the umask) and gives the
 * sidecars the main file's mode; so the main file is created here first, empty and 0600, and
 * SQLite's sidecars follow it. A store made 0644 by older code is tightened on open.
 */
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CohortError } from '../../core/protocol/errors.js';
import { migrate } from './migrate.js';

export const STORE_FILE_MODE = 0o600;
const SIDECARS = ['-wal', '-shm', '-journal'] as const;

/** True for SQLite's names that are no file: an in-memory or temporary database. */
function isFileless(path: string): boolean {
  return path === '' || path === ':memory:' || path.startsWith('file::memory:');
}

/** Creates `path` empty and 0600 when it is missing; narrows an existing store and its sidecars to 0600. */
export function securePrivateFile(path: string): void {
  if (isFileless(path)) return;
  try {
    closeSync(openSync(path, 'wx', STORE_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (const file of [path, ...SIDECARS.map((s) => path + s)]) {
    if (!existsSync(file)) continue;
    if ((statSync(file).mode & 0o077) === 0) continue;
    try {
      chmodSync(file, STORE_FILE_MODE);
    } catch (error) {
      // Someone else's file that we may still open (shared group): leave its mode to its owner.
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    }
  }
}

export function openStoreDatabase(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    securePrivateFile(path);
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (cause) {
    db?.close();
    if (cause instanceof CohortError) throw new CohortError(cause.code, `run store ${path}: ${cause.message}`, { cause, details: cause.details });
    throw new CohortError('E_STORE', `cannot open run store ${path}: ${(cause as Error).message}`, { cause });
  }
}
