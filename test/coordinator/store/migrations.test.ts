// Versioned migrations on real SQLite: a store written by the code before them (the committed
// fixture, see fixtures/write-v1-store.mjs) opens, is migrated, keeps everything, and takes new
// rounds; a store from newer code is refused; a migration that fails leaves the last good version.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RewardTree } from '../../../contracts/merkle.js';
import { enqueueRound, storedBinding } from '../../../coordinator/ledger/outbox.js';
import { migrate, schemaVersion } from '../../../coordinator/store/migrate.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { MIGRATIONS, STORE_SCHEMA_VERSION } from '../../../coordinator/store/schema.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'v1-store.sqlite');
const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cohort-migrate-'));
  path = join(dir, 'store.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The raw schema_version row, read without the store's code. */
function versionRow(file: string): string | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined)?.value;
  } finally {
    db.close();
  }
}

describe('run store migrations', () => {
  it('opens a store written by the code before migrations, keeps its data and takes new rounds', () => {
    // Prepare: a copy of the fixture (the committed file must stay at version 1).
    copyFileSync(FIXTURE, path);
    expect(versionRow(path)).toBe('1');

    // Execute
    const store = new RunStore(path);

    // Assert: migrated, and every kind of row survived.
    expect(store.schemaVersion).toBe(STORE_SCHEMA_VERSION);
    expect(STORE_SCHEMA_VERSION).toBeGreaterThan(1);
    expect(store.coordinatorId()).toBe('cohort-c037c98b-b613-4569-a0c4-0c477263650b');
    expect(store.listRuns().map((r) => [r.id, r.status, r.endReason])).toEqual([['run-v1-ended', 'stopped', 'operator'], ['run-v1', 'running', null]]);
    expect(store.unfinishedRun()?.config).toEqual({ rounds: 3, minClients: 2 });
    expect(store.rounds('run-v1').map((r) => [r.round, r.participants, r.examples, r.secure, r.durationMs])).toEqual([[1, 2, 40, false, 51], [2, 2, 70, true, 52]]);
    expect(store.contributions('run-v1')).toEqual([
      { round: 1, address: A, examples: 30, amount: 30 }, { round: 1, address: B, examples: 10, amount: 10 },
      { round: 2, address: A, examples: 60, amount: 60 }, { round: 2, address: B, examples: 10, amount: 10 },
    ]);
    expect(store.checkpointRounds('run-v1')).toEqual([1, 2]);
    expect(Array.from(store.latestCheckpoint('run-v1')?.weights ?? [])).toEqual([2, 1, -2, 0.25]);
    expect(Array.from(store.checkpoint('run-v1', 1) ?? [])).toEqual([1, 0.5, -1, 0.25]);
    expect(Array.from(store.strategyState('run-v1', 2)?.momentum ?? [])).toEqual([2, -2, 0, 1]);
    expect(store.roundFailures('run-v1')).toEqual([{ round: 1, attempt: 1, reason: 'too few survivors', failedAt: 1_004 }]);
    expect(store.sessions().map((s) => [s.id, s.runId, s.kind, s.backend, s.disconnectedAt, s.closeCode, s.closeReason])).toEqual([
      ['session-1', 'run-v1', 'node', 'cpu', 5_000, 1000, 'bye'],
      ['session-2', 'run-v1', 'browser', undefined, null, null, null],
    ]);

    // The ledger's rows, written by the old ledger code on the side, are now the store's.
    const binding = storedBinding(store.ledger, 'run-v1');
    expect(binding).toMatchObject({ chainId: 31337, chainRunId: 7n, fromBlock: 3, allowlist: [A, B], policy: { budgetWei: 1_000n, rounds: 3, perWorkerContributionCap: 500 } });
    const rows = store.ledger.outboxRows('run-v1');
    expect(rows.map((r) => [r.round, r.status, r.txHash, r.outcome])).toEqual([[1, 'sent', `0x${'ab'.repeat(32)}`, 'recorded'], [2, 'pending', null, null]]);
    expect(store.ledger.sentTransactions('run-v1')).toEqual(new Map([[1, `0x${'ab'.repeat(32)}`]]));
    const before = store.ledger.cumulativeRewards('run-v1');
    expect(RewardTree.build(before).root).toBe(rows[1]?.payload.cumulativeRoot);

    // New writes: round 3 commits with its outbox row, on top of the migrated totals.
    const weights = Float32Array.from([3, 1.5, -3, 0.25]);
    const contributions = [{ address: A, examples: 10, amount: 10 }];
    store.completeRound(
      { runId: 'run-v1', round: 3, completedAt: 9_000, durationMs: 5, participants: 1, examples: 10, accuracy: 0.9, loss: 0.1, trainLoss: 0.2, secure: false },
      contributions,
      weights,
      () => void enqueueRound(store.ledger, { runId: 'run-v1', round: 3, contributions, weights, binding: binding!, now: 9_001 }),
    );
    const after = store.ledger.cumulativeRewards('run-v1');
    expect(after.get(A)).toBeGreaterThan(before.get(A)!);
    expect(after.get(B)).toBe(before.get(B));
    expect(store.ledger.outboxRows('run-v1').at(-1)).toMatchObject({ round: 3, status: 'pending', payload: { cumulativeRoot: RewardTree.build(after).root } });
    expect(store.ledger.unsentCount()).toBe(2);
    store.close();

    // Reopening is a no-op: the data and version are as left.
    const again = new RunStore(path);
    expect(again.schemaVersion).toBe(STORE_SCHEMA_VERSION);
    expect(again.lastCompletedRound('run-v1')).toBe(3);
    expect(again.ledger.lastEnqueuedRound('run-v1')).toBe(3);
    again.close();
  });

  it('creates a new store at the current version with every table', () => {
    const store = new RunStore(path);
    expect(store.schemaVersion).toBe(STORE_SCHEMA_VERSION);
    store.createRun('r1', {});
    expect(store.ledger.outboxRows('r1')).toEqual([]);
    expect(store.ledger.binding('r1')).toBeUndefined();
    store.close();
    expect(versionRow(path)).toBe(String(STORE_SCHEMA_VERSION));
  });

  it('refuses a store written by newer code with E_STORE_VERSION, and leaves it untouched', () => {
    new RunStore(path).close();
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(STORE_SCHEMA_VERSION + 1));
    db.close();
    const bytes = readFileSync(path);

    expect(() => new RunStore(path)).toThrow(expect.objectContaining({ code: 'E_STORE_VERSION', message: expect.stringContaining('newer') }));
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('refuses a SQLite file that is not a run store', () => {
    const db = new Database(path);
    db.exec('CREATE TABLE notes (text TEXT)');
    db.close();
    expect(() => new RunStore(path)).toThrow(expect.objectContaining({ code: 'E_STORE', message: expect.stringContaining('not a run store') }));
  });

  it('keeps the last completed version when a migration fails, and resumes from it', () => {
    const db = new Database(path);
    const broken = [...MIGRATIONS, { version: STORE_SCHEMA_VERSION + 1, description: 'broken', sql: 'CREATE TABLE extra (x INTEGER); SELECT * FROM missing_table;' }];
    expect(() => migrate(db, broken)).toThrow(/missing_table/);
    expect(schemaVersion(db)).toBe(STORE_SCHEMA_VERSION);
    // The failed migration's own DDL rolled back with it.
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'extra'").get()).toBeUndefined();

    const fixed = [...MIGRATIONS, { version: STORE_SCHEMA_VERSION + 1, description: 'fixed', sql: 'CREATE TABLE extra (x INTEGER);' }];
    expect(migrate(db, fixed)).toEqual([STORE_SCHEMA_VERSION + 1]);
    expect(migrate(db, fixed)).toEqual([]);
    db.close();
  });
});
