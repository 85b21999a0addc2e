/**
 * The run store: one SQLite file (better-sqlite3, WAL mode, 0600) behind typed methods; no other
 * module sees the connection or writes SQL. A round's row, its contributions and its checkpoint
 * are written in ONE transaction, so after a crash (even `kill -9`) the store holds either the
 * whole round or none of it, and the run resumes after the last completed round.
 *
 * Methods, by concern: runs; rounds (completeRound, failures, contributions); checkpoints and
 * strategy state; worker sessions; and `ledger`, the contribution ledger's tables
 * (store/ledger-tables.ts). The schema and its migrations are in store/schema.ts.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { decodeFrame, encodeMessage } from '../../core/protocol/codec.js';
import { CohortError } from '../../core/protocol/errors.js';
import { LedgerTables } from './ledger-tables.js';
import { schemaVersion } from './migrate.js';
import { openStoreDatabase } from './open-database.js';
import { QualityTables } from './quality-tables.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped';

export interface RunRow {
  id: string;
  config: unknown;
  status: RunStatus;
  createdAt: number;
  endedAt: number | null;
  endReason: string | null;
}

export interface CompletedRound {
  runId: string;
  round: number;
  completedAt: number;
  durationMs: number;
  participants: number;
  examples: number;
  accuracy: number | null;
  loss: number | null;
  trainLoss: number | null;
  secure: boolean;
}

export interface Contribution {
  address: string;
  examples: number;
  amount: number;
}

export interface SessionRecord {
  id: string;
  runId: string | null;
  address: string;
  kind: string;
  backend?: string | undefined;
  backendReason?: string | undefined;
  connectedAt: number;
}

/** A worker session as stored: what it opened with, and how it ended (null while it is open). */
export interface SessionRow extends SessionRecord {
  backend: string | undefined;
  backendReason: string | undefined;
  disconnectedAt: number | null;
  closeCode: number | null;
  closeReason: string | null;
}

export interface RoundFailure {
  round: number;
  attempt: number;
  reason: string;
  failedAt: number;
}

interface RawRun { id: string; config: string; status: RunStatus; created_at: number; ended_at: number | null; end_reason: string | null }
interface RawRound {
  run_id: string; round: number; completed_at: number; duration_ms: number; participants: number; examples: number;
  accuracy: number | null; loss: number | null; train_loss: number | null; secure: number;
}
interface RawSession {
  id: string; run_id: string | null; address: string; kind: string; backend: string | null; backend_reason: string | null;
  connected_at: number; disconnected_at: number | null; close_code: number | null; close_reason: string | null;
}

export class RunStore {
  private readonly db: Database.Database;
  /** The contribution ledger's tables: bindings, cumulative rewards and the outbox. */
  readonly ledger: LedgerTables;
  /** Contribution scoring's tables: group scores, worker quality, the estimator's state. */
  readonly quality: QualityTables;

  /** Opens (creating, 0600) and migrates the store at `path`; E_STORE, or E_STORE_VERSION for a store newer than this code. */
  constructor(path: string, private readonly keepCheckpoints = 3) {
    this.db = openStoreDatabase(path);
    this.ledger = new LedgerTables(this.db);
    this.quality = new QualityTables(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** The schema version the store is at (after opening: this code's). */
  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** This coordinator's stable id, made on first use: workers sign challenges that name it. */
  coordinatorId(): string {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'coordinator_id'").get() as { value: string } | undefined;
    if (row) return row.value;
    const id = `cohort-${randomUUID()}`;
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('coordinator_id', ?)").run(id);
    return id;
  }

  createRun(id: string, config: unknown, now = Date.now()): void {
    this.db.prepare('INSERT INTO runs (id, config, status, created_at) VALUES (?, ?, ?, ?)').run(id, JSON.stringify(config), 'running', now);
  }

  /** The most recent run that has not ended, if any: the one `cohort serve` resumes. */
  unfinishedRun(): RunRow | undefined {
    const row = this.db.prepare("SELECT * FROM runs WHERE status = 'running' ORDER BY created_at DESC LIMIT 1").get() as RawRun | undefined;
    return row ? toRunRow(row) : undefined;
  }

  getRun(id: string): RunRow | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
    return row ? toRunRow(row) : undefined;
  }

  listRuns(): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC').all() as RawRun[]).map(toRunRow);
  }

  endRun(id: string, status: Exclude<RunStatus, 'running'>, reason: string, now = Date.now()): void {
    this.db.prepare('UPDATE runs SET status = ?, ended_at = ?, end_reason = ? WHERE id = ?').run(status, now, reason, id);
  }

  /** The last completed round of a run (0 when none). */
  lastCompletedRound(runId: string): number {
    const row = this.db.prepare('SELECT MAX(round) AS r FROM rounds WHERE run_id = ?').get(runId) as { r: number | null };
    return row.r ?? 0;
  }

  /**
   * Record a completed round with its contributions and checkpoint, atomically. Throws E_STORE if
   * the round was already recorded: no round is ever done twice.
   */
  completeRound(
    round: CompletedRound,
    contributions: readonly Contribution[],
    weights: Float32Array,
    /**
     * Runs inside the same transaction, and a throw rolls the round back: the store's own methods
     * called here (saveStrategyState, ledger.enqueueRound) are part of the round's commit.
     */
    alsoInTransaction?: () => void,
  ): void {
    const insertRound = this.db.prepare(
      `INSERT INTO rounds (run_id, round, completed_at, duration_ms, participants, examples, accuracy, loss, train_loss, secure)
       VALUES (@runId, @round, @completedAt, @durationMs, @participants, @examples, @accuracy, @loss, @trainLoss, @secure)`,
    );
    const insertContribution = this.db.prepare(
      'INSERT INTO contributions (run_id, round, address, examples, amount) VALUES (?, ?, ?, ?, ?)',
    );
    const insertCheckpoint = this.db.prepare('INSERT INTO checkpoints (run_id, round, weights, created_at) VALUES (?, ?, ?, ?)');
    const pruneCheckpoints = this.db.prepare(
      'DELETE FROM checkpoints WHERE run_id = ? AND round NOT IN (SELECT round FROM checkpoints WHERE run_id = ? ORDER BY round DESC LIMIT ?)',
    );
    const write = this.db.transaction(() => {
      insertRound.run({ ...round, secure: round.secure ? 1 : 0 });
      for (const c of contributions) insertContribution.run(round.runId, round.round, c.address, c.examples, c.amount);
      insertCheckpoint.run(round.runId, round.round, Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength), round.completedAt);
      pruneCheckpoints.run(round.runId, round.runId, this.keepCheckpoints);
      alsoInTransaction?.();
    });
    try {
      write();
    } catch (cause) {
      throw new CohortError('E_STORE', `cannot record round ${round.round} of ${round.runId}: ${(cause as Error).message}`, { cause });
    }
  }

  recordRoundFailure(runId: string, round: number, attempt: number, reason: string, now = Date.now()): void {
    this.db
      .prepare('INSERT INTO round_failures (run_id, round, attempt, failed_at, reason) VALUES (?, ?, ?, ?, ?)')
      .run(runId, round, attempt, now, reason);
  }

  roundFailures(runId: string): RoundFailure[] {
    return this.db
      .prepare('SELECT round, attempt, reason, failed_at AS failedAt FROM round_failures WHERE run_id = ? ORDER BY id')
      .all(runId) as RoundFailure[];
  }

  rounds(runId: string): CompletedRound[] {
    const rows = this.db.prepare('SELECT * FROM rounds WHERE run_id = ? ORDER BY round').all(runId) as RawRound[];
    return rows.map((r) => ({
      runId: r.run_id,
      round: r.round,
      completedAt: r.completed_at,
      durationMs: r.duration_ms,
      participants: r.participants,
      examples: r.examples,
      accuracy: r.accuracy,
      loss: r.loss,
      trainLoss: r.train_loss,
      secure: r.secure === 1,
    }));
  }

  contributions(runId: string): Array<Contribution & { round: number }> {
    return this.db
      .prepare('SELECT round, address, examples, amount FROM contributions WHERE run_id = ? ORDER BY round, address')
      .all(runId) as Array<Contribution & { round: number }>;
  }

  /** Store a strategy's state for a round (call inside completeRound's transaction). */
  saveStrategyState(runId: string, round: number, state: Record<string, Float32Array>): void {
    this.db.prepare('INSERT OR REPLACE INTO strategy_states (run_id, round, state) VALUES (?, ?, ?)').run(runId, round, encodeMessage(state));
    this.db.prepare('DELETE FROM strategy_states WHERE run_id = ? AND round < ?').run(runId, round);
  }

  /** The strategy state saved with a round, if its strategy keeps one. */
  strategyState(runId: string, round: number): Record<string, Float32Array> | undefined {
    const row = this.db.prepare('SELECT state FROM strategy_states WHERE run_id = ? AND round = ?').get(runId, round) as { state: Buffer } | undefined;
    return row ? (decodeFrame(new Uint8Array(row.state)) as Record<string, Float32Array>) : undefined;
  }

  /** Differential privacy's accountant state (JSON), replacing the one before. */
  savePrivacyState(runId: string, state: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO privacy_states (run_id, state) VALUES (?, ?)').run(runId, JSON.stringify(state));
  }

  /** The accountant state last saved for a run, parsed; undefined when it never spent any ε. */
  privacyState(runId: string): unknown {
    const row = this.db.prepare('SELECT state FROM privacy_states WHERE run_id = ?').get(runId) as { state: string } | undefined;
    return row ? (JSON.parse(row.state) as unknown) : undefined;
  }

  /** The newest checkpoint of a run (the global weights after its last completed round). */
  latestCheckpoint(runId: string): { round: number; weights: Float32Array } | undefined {
    const row = this.db.prepare('SELECT round, weights FROM checkpoints WHERE run_id = ? ORDER BY round DESC LIMIT 1').get(runId) as
      | { round: number; weights: Buffer }
      | undefined;
    return row ? { round: row.round, weights: toWeights(row.weights) } : undefined;
  }

  /** The stored weights after `round`, if that checkpoint is still kept (the last keepCheckpoints rounds). */
  checkpoint(runId: string, round: number): Float32Array | undefined {
    const row = this.db.prepare('SELECT weights FROM checkpoints WHERE run_id = ? AND round = ?').get(runId, round) as { weights: Buffer } | undefined;
    return row ? toWeights(row.weights) : undefined;
  }

  checkpointRounds(runId: string): number[] {
    return (this.db.prepare('SELECT round FROM checkpoints WHERE run_id = ? ORDER BY round').all(runId) as { round: number }[]).map(
      (r) => r.round,
    );
  }

  openSession(session: SessionRecord): void {
    this.db
      .prepare(
        'INSERT INTO sessions (id, run_id, address, kind, backend, backend_reason, connected_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(session.id, session.runId, session.address, session.kind, session.backend ?? null, session.backendReason ?? null, session.connectedAt);
  }

  updateSessionBackend(id: string, backend: string, reason: string): void {
    this.db.prepare('UPDATE sessions SET backend = ?, backend_reason = ? WHERE id = ?').run(backend, reason, id);
  }

  closeSession(id: string, code: number, reason: string, now = Date.now()): void {
    this.db
      .prepare('UPDATE sessions SET disconnected_at = ?, close_code = ?, close_reason = ? WHERE id = ? AND disconnected_at IS NULL')
      .run(now, code, reason, id);
  }

  /** Every worker session, oldest first. */
  sessions(): SessionRow[] {
    return (this.db.prepare('SELECT * FROM sessions ORDER BY connected_at').all() as RawSession[]).map((s) => ({
      id: s.id,
      runId: s.run_id,
      address: s.address,
      kind: s.kind,
      backend: s.backend ?? undefined,
      backendReason: s.backend_reason ?? undefined,
      connectedAt: s.connected_at,
      disconnectedAt: s.disconnected_at,
      closeCode: s.close_code,
      closeReason: s.close_reason,
    }));
  }
}

function toRunRow(row: RawRun): RunRow {
  return {
    id: row.id,
    config: JSON.parse(row.config) as unknown,
    status: row.status,
    createdAt: row.created_at,
    endedAt: row.ended_at ?? null,
    endReason: row.end_reason ?? null,
  };
}

/** Copies a checkpoint into a fresh, aligned buffer: SQLite's Buffer may sit at any offset. */
function toWeights(bytes: Buffer): Float32Array {
  const weights = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(weights.buffer).set(bytes);
  return weights;
}
