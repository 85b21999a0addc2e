/**
 * The ledger's tables in the run store, and the outbox write that goes in the round's own
 * transaction (the transactional-outbox pattern): the round, its reward split, everyone's new
 * cumulative total and the row to send commit together or not at all. So after any crash the
 * store says exactly which rounds still have to reach the chain, and the cumulative Merkle root
 * of each round is fixed once, whatever restarts follow.
 *
 * Tables:
 * - `ledger_runs`: which contract run a store run pays through, and its reward settings (fixed
 *   at the first attach; a restart with other flags keeps them);
 * - `ledger_rewards`: address → cumulative wei over the rounds enqueued so far;
 * - `ledger_outbox`: one row per round, pending until the chain has it, then sent with its tx hash.
 *   A row whose round the chain holds with another root is marked `conflict` and never retried.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { CohortError } from '../../core/protocol/errors.js';
import { RewardTree, accumulate, sumRound, type RewardEntry } from '../../contracts/merkle.js';
import { allowlistOf, roundReward, splitRound, type RewardPolicy } from './rewards.js';

export const LEDGER_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS ledger_runs (
  run_id          TEXT PRIMARY KEY,
  chain_id        INTEGER NOT NULL,
  ledger_address  TEXT NOT NULL,
  chain_run_id    TEXT NOT NULL,
  from_block      INTEGER NOT NULL,
  settings        TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger_rewards (
  run_id          TEXT NOT NULL,
  address         TEXT NOT NULL,
  cumulative_wei  TEXT NOT NULL,
  last_round      INTEGER NOT NULL,
  PRIMARY KEY (run_id, address)
);

CREATE TABLE IF NOT EXISTS ledger_outbox (
  run_id      TEXT NOT NULL,
  round       INTEGER NOT NULL,
  payload     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'conflict')),
  tx_hash     TEXT,
  outcome     TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  sent_at     INTEGER,
  PRIMARY KEY (run_id, round)
);
`;

export function ensureLedgerTables(db: Database.Database): void {
  db.exec(LEDGER_SCHEMA_SQL);
}

/** Which contract run a store run pays through, and how rewards are computed. */
export interface LedgerBinding {
  readonly chainId: number;
  readonly ledgerAddress: string;
  readonly chainRunId: bigint;
  readonly fromBlock: number;
  readonly policy: RewardPolicy;
  readonly allowlist?: readonly string[] | undefined;
}

/**
 * Binds `runId` to a contract run on first use and returns the binding in force: the stored one
 * when there is one (rewards must not change rules mid-run), with the fields that differ from
 * `wanted` listed so the caller can warn.
 */
export function bindRun(db: Database.Database, runId: string, wanted: LedgerBinding, now = Date.now()): { binding: LedgerBinding; differences: string[] } {
  ensureLedgerTables(db);
  const stored = storedBinding(db, runId);
  if (!stored) {
    db.prepare(
      'INSERT INTO ledger_runs (run_id, chain_id, ledger_address, chain_run_id, from_block, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(runId, wanted.chainId, wanted.ledgerAddress, wanted.chainRunId.toString(), wanted.fromBlock, JSON.stringify(settingsJson(wanted)), now);
    return { binding: wanted, differences: [] };
  }
  const a = { chainId: stored.chainId, ledger: stored.ledgerAddress.toLowerCase(), chainRunId: stored.chainRunId.toString(), ...settingsJson(stored) };
  const b = { chainId: wanted.chainId, ledger: wanted.ledgerAddress.toLowerCase(), chainRunId: wanted.chainRunId.toString(), ...settingsJson(wanted) };
  const differences = Object.keys(a).filter((k) => JSON.stringify(a[k as keyof typeof a]) !== JSON.stringify(b[k as keyof typeof b]));
  return { binding: stored, differences };
}

export function storedBinding(db: Database.Database, runId: string): LedgerBinding | undefined {
  ensureLedgerTables(db);
  const row = db.prepare('SELECT * FROM ledger_runs WHERE run_id = ?').get(runId) as
    | { chain_id: number; ledger_address: string; chain_run_id: string; from_block: number; settings: string }
    | undefined;
  if (!row) return undefined;
  const s = JSON.parse(row.settings) as ReturnType<typeof settingsJson>;
  return {
    chainId: row.chain_id,
    ledgerAddress: row.ledger_address,
    chainRunId: BigInt(row.chain_run_id),
    fromBlock: row.from_block,
    policy: {
      budgetWei: BigInt(s.budgetWei),
      rounds: s.rounds,
      schedule: s.schedule?.map((v) => BigInt(v)),
      perWorkerContributionCap: s.perWorkerContributionCap ?? undefined,
      perAddressRewardCapWei: s.perAddressRewardCapWei === null ? undefined : BigInt(s.perAddressRewardCapWei),
    },
    allowlist: s.allowlist ?? undefined,
  };
}

function settingsJson(b: LedgerBinding): {
  budgetWei: string; rounds: number; schedule: string[] | null; perWorkerContributionCap: number | null;
  perAddressRewardCapWei: string | null; allowlist: string[] | null;
} {
  return {
    budgetWei: b.policy.budgetWei.toString(),
    rounds: b.policy.rounds,
    schedule: b.policy.schedule?.map(String) ?? null,
    perWorkerContributionCap: b.policy.perWorkerContributionCap ?? null,
    perAddressRewardCapWei: b.policy.perAddressRewardCapWei?.toString() ?? null,
    allowlist: b.allowlist ? [...b.allowlist] : null,
  };
}

/** What a row asks the chain to record; JSON-safe (amounts are decimal strings). */
export interface OutboxPayload {
  readonly v: 1;
  readonly ledger: string;
  readonly chainRunId: string;
  readonly round: number;
  /** sha256 of the global weights after the round (Float32, little-endian bytes). */
  readonly modelHash: string;
  /** What the round could pay; roundTotal is less when caps left some unallocated. */
  readonly roundReward: string;
  readonly roundTotal: string;
  /** [checksummed address, wei], sorted by address. */
  readonly entries: ReadonlyArray<readonly [string, string]>;
  /** Root over every address's cumulative reward including this round. */
  readonly cumulativeRoot: string;
}

export type OutboxStatus = 'pending' | 'sent' | 'conflict';

export interface OutboxRow {
  readonly runId: string;
  readonly round: number;
  readonly payload: OutboxPayload;
  readonly status: OutboxStatus;
  readonly txHash: string | null;
  /** 'recorded', or 'already-recorded' when a retry found its own earlier transaction. */
  readonly outcome: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly sentAt: number | null;
}

export interface EnqueueInput {
  readonly runId: string;
  readonly round: number;
  /** The engine's RoundCommit contributions: declared work per surviving worker. */
  readonly contributions: ReadonlyArray<{ readonly address: string; readonly amount: number }>;
  readonly weights: Float32Array;
  readonly binding: LedgerBinding;
  readonly now?: number;
}

/**
 * Splits the round's reward, adds it to the cumulative table and writes the outbox row. Call it
 * inside the transaction that completes the round (RunEngine's onRoundCommit): a throw here rolls
 * the round back with it.
 */
export function enqueueRound(db: Database.Database, input: EnqueueInput): OutboxPayload {
  ensureLedgerTables(db);
  const now = input.now ?? Date.now();
  const last = db.prepare('SELECT MAX(round) AS r FROM ledger_outbox WHERE run_id = ?').get(input.runId) as { r: number | null };
  if (last.r !== null && last.r >= input.round) {
    // Roots are cumulative: a round enqueued out of order would make every later root wrong.
    throw new CohortError('E_STORE', `ledger outbox: round ${input.round} of ${input.runId} comes after round ${last.r}`);
  }
  const { binding } = input;
  const cumulative = cumulativeRewards(db, input.runId);
  const reward = roundReward(binding.policy, input.round);
  const split = splitRound({
    reward,
    contributions: input.contributions,
    cumulative,
    perWorkerContributionCap: binding.policy.perWorkerContributionCap,
    perAddressRewardCapWei: binding.policy.perAddressRewardCapWei,
    allowlist: allowlistOf(binding.allowlist),
  });
  const next = accumulate(cumulative, split.entries);
  const upsert = db.prepare(
    `INSERT INTO ledger_rewards (run_id, address, cumulative_wei, last_round) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id, address) DO UPDATE SET cumulative_wei = excluded.cumulative_wei, last_round = excluded.last_round`,
  );
  for (const { account } of split.entries) upsert.run(input.runId, account, (next.get(account) ?? 0n).toString(), input.round);

  const payload: OutboxPayload = {
    v: 1,
    ledger: binding.ledgerAddress,
    chainRunId: binding.chainRunId.toString(),
    round: input.round,
    modelHash: modelHash(input.weights),
    roundReward: reward.toString(),
    roundTotal: split.total.toString(),
    entries: split.entries.map((e) => [e.account, e.amount.toString()] as const),
    cumulativeRoot: RewardTree.build(next).root,
  };
  db.prepare(
    "INSERT INTO ledger_outbox (run_id, round, payload, status, attempts, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?)",
  ).run(input.runId, input.round, JSON.stringify(payload), now, now);
  return payload;
}

/** sha256 of the weights' bytes, as bytes32 hex: anyone holding the model can check it. */
export function modelHash(weights: Float32Array): string {
  return `0x${createHash('sha256').update(new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)).digest('hex')}`;
}

/** The entries of a payload as the ledger client takes them. */
export function payloadEntries(payload: OutboxPayload): RewardEntry[] {
  const entries = payload.entries.map(([account, amount]) => ({ account, amount: BigInt(amount) }));
  if (sumRound(entries).toString() !== payload.roundTotal) {
    throw new CohortError('E_LEDGER_INPUT', `outbox round ${payload.round}: entries do not sum to roundTotal ${payload.roundTotal}`);
  }
  return entries;
}

/** address → cumulative wei over every enqueued round of the run. */
export function cumulativeRewards(db: Database.Database, runId: string): Map<string, bigint> {
  ensureLedgerTables(db);
  const rows = db.prepare('SELECT address, cumulative_wei FROM ledger_rewards WHERE run_id = ? ORDER BY address').all(runId) as Array<{
    address: string;
    cumulative_wei: string;
  }>;
  return new Map(rows.map((r) => [r.address, BigInt(r.cumulative_wei)]));
}

/** The coordinator's tree over every enqueued round; its root is the chain's once the outbox is drained. */
export function rewardTreeOf(db: Database.Database, runId: string): RewardTree {
  return RewardTree.build(cumulativeRewards(db, runId));
}

export function outboxRows(db: Database.Database, runId: string): OutboxRow[] {
  ensureLedgerTables(db);
  return (db.prepare('SELECT * FROM ledger_outbox WHERE run_id = ? ORDER BY round').all(runId) as RawRow[]).map(toRow);
}

/** The lowest round not yet sent, pending or in conflict: rounds go out strictly in order. */
export function firstUnsent(db: Database.Database, runId: string): OutboxRow | undefined {
  const row = db.prepare("SELECT * FROM ledger_outbox WHERE run_id = ? AND status != 'sent' ORDER BY round LIMIT 1").get(runId) as RawRow | undefined;
  return row ? toRow(row) : undefined;
}

/** Other runs of the store with rows not yet on chain, oldest first. */
export function runsWithUnsent(db: Database.Database, exceptRunId: string): string[] {
  ensureLedgerTables(db);
  const rows = db
    .prepare("SELECT run_id, MIN(created_at) AS since FROM ledger_outbox WHERE status = 'pending' AND run_id != ? GROUP BY run_id ORDER BY since")
    .all(exceptRunId) as Array<{ run_id: string }>;
  return rows.map((r) => r.run_id);
}

/** Rows not yet on chain (pending or in conflict): the cohort_ledger_outbox_pending gauge. */
export function unsentCount(db: Database.Database, runId?: string): number {
  ensureLedgerTables(db);
  const row = (runId === undefined
    ? db.prepare("SELECT COUNT(*) AS n FROM ledger_outbox WHERE status != 'sent'").get()
    : db.prepare("SELECT COUNT(*) AS n FROM ledger_outbox WHERE run_id = ? AND status != 'sent'").get(runId)) as { n: number };
  return row.n;
}

export function markSent(db: Database.Database, runId: string, round: number, sent: { txHash: string; outcome: string }, now = Date.now()): void {
  db.prepare(
    "UPDATE ledger_outbox SET status = 'sent', tx_hash = ?, outcome = ?, attempts = attempts + 1, last_error = NULL, updated_at = ?, sent_at = ? WHERE run_id = ? AND round = ?",
  ).run(sent.txHash, sent.outcome, now, now, runId, round);
}

export function markFailed(db: Database.Database, runId: string, round: number, error: string, now = Date.now()): void {
  db.prepare('UPDATE ledger_outbox SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE run_id = ? AND round = ?').run(error, now, runId, round);
}

export function markConflict(db: Database.Database, runId: string, round: number, error: string, now = Date.now()): void {
  db.prepare("UPDATE ledger_outbox SET status = 'conflict', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE run_id = ? AND round = ?").run(
    error,
    now,
    runId,
    round,
  );
}

interface RawRow {
  run_id: string; round: number; payload: string; status: OutboxStatus; tx_hash: string | null; outcome: string | null;
  attempts: number; last_error: string | null; created_at: number; updated_at: number; sent_at: number | null;
}

function toRow(r: RawRow): OutboxRow {
  return {
    runId: r.run_id, round: r.round, payload: JSON.parse(r.payload) as OutboxPayload, status: r.status, txHash: r.tx_hash,
    outcome: r.outcome, attempts: r.attempts, lastError: r.last_error, createdAt: r.created_at, updatedAt: r.updated_at, sentAt: r.sent_at,
  };
}
