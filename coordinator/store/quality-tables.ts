/**
 * Contribution scoring's tables in the run store (`store.quality`): the group scores of every
 * scored round, each credited worker's quality as that round's reward used it, and the quality
 * estimator's state. Data access only; what a score means is coordinator/contribution/. Called
 * inside the round's commit transaction, so a round and its scores commit together.
 */
import type Database from 'better-sqlite3';

export interface GroupScoreRow {
  readonly round: number;
  readonly groupIndex: number;
  readonly members: readonly string[];
  readonly marginal: number;
  readonly norm: number;
  readonly cosine: number;
  readonly totalWeight: number;
}

export interface WorkerQualityRow {
  readonly round: number;
  readonly address: string;
  readonly estimate: number;
  readonly confidence: number;
  readonly observations: number;
  /** The share of its declared work the round credited, in [0, 1]. */
  readonly factor: number;
  readonly flagged: boolean;
}

export class QualityTables {
  constructor(private readonly db: Database.Database) {}

  /** Records one round's scores and qualities (call inside completeRound's transaction). */
  recordRound(runId: string, round: number, groups: ReadonlyArray<Omit<GroupScoreRow, 'round'>>, workers: ReadonlyArray<Omit<WorkerQualityRow, 'round'>>): void {
    const insertGroup = this.db.prepare(
      'INSERT OR REPLACE INTO group_scores (run_id, round, group_index, members, marginal, norm, cosine, total_weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertWorker = this.db.prepare(
      'INSERT OR REPLACE INTO worker_quality (run_id, round, address, estimate, confidence, observations, factor, flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const g of groups) insertGroup.run(runId, round, g.groupIndex, JSON.stringify(g.members), g.marginal, g.norm, g.cosine, g.totalWeight);
    for (const w of workers) insertWorker.run(runId, round, w.address, w.estimate, w.confidence, w.observations, w.factor, w.flagged ? 1 : 0);
  }

  groupScores(runId: string): GroupScoreRow[] {
    const rows = this.db
      .prepare('SELECT round, group_index, members, marginal, norm, cosine, total_weight FROM group_scores WHERE run_id = ? ORDER BY round, group_index')
      .all(runId) as Array<{ round: number; group_index: number; members: string; marginal: number; norm: number; cosine: number; total_weight: number }>;
    return rows.map((r) => ({ round: r.round, groupIndex: r.group_index, members: JSON.parse(r.members) as string[], marginal: r.marginal, norm: r.norm, cosine: r.cosine, totalWeight: r.total_weight }));
  }

  workerQuality(runId: string): WorkerQualityRow[] {
    const rows = this.db
      .prepare('SELECT round, address, estimate, confidence, observations, factor, flagged FROM worker_quality WHERE run_id = ? ORDER BY round, address')
      .all(runId) as Array<Omit<WorkerQualityRow, 'flagged'> & { flagged: number }>;
    return rows.map((r) => ({ ...r, flagged: r.flagged === 1 }));
  }

  /** The estimator's state after `round` (JSON), replacing the older one. */
  saveState(runId: string, round: number, state: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO quality_states (run_id, round, state) VALUES (?, ?, ?)').run(runId, round, JSON.stringify(state));
  }

  /** The newest estimator state of a run, with the round it is from. */
  state(runId: string): { round: number; state: unknown } | undefined {
    const row = this.db.prepare('SELECT round, state FROM quality_states WHERE run_id = ?').get(runId) as { round: number; state: string } | undefined;
    return row ? { round: row.round, state: JSON.parse(row.state) as unknown } : undefined;
  }
}
