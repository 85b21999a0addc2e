/**
 * The run store: SQLite through better-sqlite3, in WAL mode. A round's row, its contributions and
 * its checkpoint are written in ONE transaction, so after a crash (even `kill -9`) the store holds
 * either the whole round or none of it, and the run resumes after the last completed round.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { decodeFrame, encodeMessage } from '../../core/protocol/codec.js';
import { CohortError } from '../../core/protocol/errors.js';
import { SCHEMA_SQL, STORE_SCHEMA_VERSION } from './schema.js';

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

export class RunStore {
  private readonly db: Database.Database;

  constructor(path: string, private readonly keepCheckpoints = 3) {
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.exec(SCHEMA_SQL);
      this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(STORE_SCHEMA_VERSION));
    } catch (cause) {
      throw new CohortError('E_STORE', `cannot open run store ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  /** The underlying connection, for modules that keep their own tables in the run store (the ledger outbox). */
  get database(): Database.Database {
    return this.db;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.open;
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
    const row = this.db.prepare("SELECT * FROM runs WHERE status = 'running' ORDER BY created_at DESC LIMIT 1").get() as
      | Record<string, unknown>
      | undefined;
    return row ? toRunRow(row) : undefined;
  }

  getRun(id: string): RunRow | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return row ? toRunRow(row) : undefined;
  }

  listRuns(): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC').all() as Record<string, unknown>[]).map(toRunRow);
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
    /** Runs inside the same transaction (the ledger outbox row goes in here). */
    alsoInTransaction?: (db: Database.Database) => void,
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
      alsoInTransaction?.(this.db);
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

  roundFailures(runId: string): Array<{ round: number; attempt: number; reason: string; failedAt: number }> {
    return this.db
      .prepare('SELECT round, attempt, reason, failed_at AS failedAt FROM round_failures WHERE run_id = ? ORDER BY id')
      .all(runId) as Array<{ round: number; attempt: number; reason: string; failedAt: number }>;
  }

  rounds(runId: string): CompletedRound[] {
    const rows = this.db.prepare('SELECT * FROM rounds WHERE run_id = ? ORDER BY round').all(runId) as Record<string, unknown>[];
    return rows.map((r) => ({
      runId: r.run_id as string,
      round: r.round as number,
      completedAt: r.completed_at as number,
      durationMs: r.duration_ms as number,
      participants: r.participants as number,
      examples: r.examples as number,
      accuracy: r.accuracy as number | null,
      loss: r.loss as number | null,
      trainLoss: r.train_loss as number | null,
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

  /** The newest checkpoint of a run (the global weights after its last completed round). */
  latestCheckpoint(runId: string): { round: number; weights: Float32Array } | undefined {
    const row = this.db.prepare('SELECT round, weights FROM checkpoints WHERE run_id = ? ORDER BY round DESC LIMIT 1').get(runId) as
      | { round: number; weights: Buffer }
      | undefined;
    if (!row) return undefined;
    // Copy into a fresh, aligned buffer: SQLite's Buffer may sit at any offset.
    const weights = new Float32Array(row.weights.byteLength / 4);
    new Uint8Array(weights.buffer).set(row.weights);
    return { round: row.round, weights };
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

  sessions(): Array<Record<string, unknown>> {
    return this.db.prepare('SELECT * FROM sessions ORDER BY connected_at').all() as Array<Record<string, unknown>>;
  }
}

function toRunRow(row: Record<string, unknown>): RunRow {
  return {
    id: row.id as string,
    config: JSON.parse(row.config as string) as unknown,
    status: row.status as RunStatus,
    createdAt: row.created_at as number,
    endedAt: (row.ended_at as number | null) ?? null,
    endReason: (row.end_reason as string | null) ?? null,
  };
}
