/**
 * The contribution ledger's tables in the run store (`store.ledger`): which contract run a store
 * run pays through, everyone's cumulative reward, and the outbox of rounds to send to the chain.
 *
 * This is data access only; what a round pays and what its Merkle root is are the ledger's
 * business (coordinator/ledger/outbox.ts). Every method runs on the store's one connection, so a
 * call made inside the transaction that completes a round (RunEngine's onRoundCommit) is part of
 * it: the round, its reward split and its outbox row commit together or not at all (the
 * transactional-outbox pattern).
 */
import type Database from 'better-sqlite3';
import { CohortError } from '../../core/protocol/errors.js';

/** Which contract run a store run pays through. `settings` is the ledger's JSON (reward policy, allowlist). */
export interface LedgerRunRecord {
  readonly chainId: number;
  readonly ledgerAddress: string;
  readonly chainRunId: bigint;
  readonly fromBlock: number;
  readonly settings: unknown;
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
  /** A quality-paid round's published scoring (RoundScored); absent without a quality rule. */
  readonly scoring?: { readonly assignmentRoot: string; readonly record: string } | undefined;
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

/** A round's outbox entry, built by the ledger from the cumulative totals before it. */
export interface RoundEntry {
  readonly payload: OutboxPayload;
  /** The new cumulative wei of each address the round paid. */
  readonly totals: ReadonlyMap<string, bigint>;
}

interface RawOutboxRow {
  run_id: string; round: number; payload: string; status: OutboxStatus; tx_hash: string | null; outcome: string | null;
  attempts: number; last_error: string | null; created_at: number; updated_at: number; sent_at: number | null;
}

export class LedgerTables {
  private readonly statements: Map<string, Database.Statement> = new Map();

  constructor(private readonly db: Database.Database) {}

  /** False once the store is closed: a sender still running stops touching it. */
  get isOpen(): boolean {
    return this.db.open;
  }

  /** The contract run `runId` pays through, when it has been bound. */
  binding(runId: string): LedgerRunRecord | undefined {
    const row = this.sql('SELECT chain_id, ledger_address, chain_run_id, from_block, settings FROM ledger_runs WHERE run_id = ?').get(runId) as
      | { chain_id: number; ledger_address: string; chain_run_id: string; from_block: number; settings: string }
      | undefined;
    if (!row) return undefined;
    return {
      chainId: row.chain_id,
      ledgerAddress: row.ledger_address,
      chainRunId: BigInt(row.chain_run_id),
      fromBlock: row.from_block,
      settings: JSON.parse(row.settings) as unknown,
    };
  }

  /** Binds `runId` unless it is bound already; returns the binding in force (the stored one wins). */
  bind(runId: string, record: LedgerRunRecord, now = Date.now()): LedgerRunRecord {
    return this.db.transaction(() => {
      const stored = this.binding(runId);
      if (stored) return stored;
      this.sql('INSERT INTO ledger_runs (run_id, chain_id, ledger_address, chain_run_id, from_block, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        runId, record.chainId, record.ledgerAddress, record.chainRunId.toString(), record.fromBlock, JSON.stringify(record.settings), now,
      );
      return record;
    })();
  }

  /** address → cumulative wei over every enqueued round of the run. */
  cumulativeRewards(runId: string): Map<string, bigint> {
    const rows = this.sql('SELECT address, cumulative_wei FROM ledger_rewards WHERE run_id = ? ORDER BY address').all(runId) as Array<{
      address: string;
      cumulative_wei: string;
    }>;
    return new Map(rows.map((r) => [r.address, BigInt(r.cumulative_wei)]));
  }

  /** The highest round in the outbox (0 when none). */
  lastEnqueuedRound(runId: string): number {
    const row = this.sql('SELECT MAX(round) AS r FROM ledger_outbox WHERE run_id = ?').get(runId) as { r: number | null };
    return row.r ?? 0;
  }

  /**
   * Writes round `round`'s outbox row and new cumulative totals, in one transaction (a savepoint
   * inside the round's own). `build` gets the totals before the round. Throws E_STORE when the
   * round is not after every enqueued one: roots are cumulative, so one out of order would make
   * every later root wrong.
   */
  enqueueRound(runId: string, round: number, build: (cumulative: Map<string, bigint>) => RoundEntry, now = Date.now()): OutboxPayload {
    return this.db.transaction(() => {
      const last = this.lastEnqueuedRound(runId);
      if (last >= round) throw new CohortError('E_STORE', `ledger outbox: round ${round} of ${runId} comes after round ${last}`);
      const { payload, totals } = build(this.cumulativeRewards(runId));
      const upsert = this.sql(
        `INSERT INTO ledger_rewards (run_id, address, cumulative_wei, last_round) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id, address) DO UPDATE SET cumulative_wei = excluded.cumulative_wei, last_round = excluded.last_round`,
      );
      for (const [address, wei] of totals) upsert.run(runId, address, wei.toString(), round);
      this.sql("INSERT INTO ledger_outbox (run_id, round, payload, status, attempts, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?)").run(
        runId, round, JSON.stringify(payload), now, now,
      );
      return payload;
    })();
  }

  /** Every outbox row of the run, by round. */
  outboxRows(runId: string): OutboxRow[] {
    return (this.sql('SELECT * FROM ledger_outbox WHERE run_id = ? ORDER BY round').all(runId) as RawOutboxRow[]).map(toOutboxRow);
  }

  /** The lowest round not yet sent, pending or in conflict: rounds go out strictly in order. */
  firstUnsent(runId: string): OutboxRow | undefined {
    const row = this.sql("SELECT * FROM ledger_outbox WHERE run_id = ? AND status != 'sent' ORDER BY round LIMIT 1").get(runId) as RawOutboxRow | undefined;
    return row ? toOutboxRow(row) : undefined;
  }

  /** Other runs of the store with rows pending, oldest first. */
  runsWithPending(exceptRunId: string): string[] {
    const rows = this.sql(
      "SELECT run_id, MIN(created_at) AS since FROM ledger_outbox WHERE status = 'pending' AND run_id != ? GROUP BY run_id ORDER BY since",
    ).all(exceptRunId) as Array<{ run_id: string }>;
    return rows.map((r) => r.run_id);
  }

  /** Rows not yet on chain (pending or in conflict), of one run or of the whole store. */
  unsentCount(runId?: string): number {
    const row = (runId === undefined
      ? this.sql("SELECT COUNT(*) AS n FROM ledger_outbox WHERE status != 'sent'").get()
      : this.sql("SELECT COUNT(*) AS n FROM ledger_outbox WHERE run_id = ? AND status != 'sent'").get(runId)) as { n: number };
    return row.n;
  }

  /** round → transaction hash, for the rounds the chain has (the dashboard's tx column). */
  sentTransactions(runId: string): Map<number, string> {
    const rows = this.sql("SELECT round, tx_hash FROM ledger_outbox WHERE run_id = ? AND tx_hash IS NOT NULL ORDER BY round").all(runId) as Array<{
      round: number;
      tx_hash: string;
    }>;
    return new Map(rows.map((r) => [r.round, r.tx_hash]));
  }

  markSent(runId: string, round: number, sent: { txHash: string; outcome: string }, now = Date.now()): void {
    this.sql(
      "UPDATE ledger_outbox SET status = 'sent', tx_hash = ?, outcome = ?, attempts = attempts + 1, last_error = NULL, updated_at = ?, sent_at = ? WHERE run_id = ? AND round = ?",
    ).run(sent.txHash, sent.outcome, now, now, runId, round);
  }

  /** A failed attempt: counted, with its error; the row stays pending and is retried. */
  markFailed(runId: string, round: number, error: string, now = Date.now()): void {
    this.sql('UPDATE ledger_outbox SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE run_id = ? AND round = ?').run(error, now, runId, round);
  }

  /** The chain holds this round with another root: never retried. */
  markConflict(runId: string, round: number, error: string, now = Date.now()): void {
    this.sql("UPDATE ledger_outbox SET status = 'conflict', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE run_id = ? AND round = ?").run(
      error, now, runId, round,
    );
  }

  /** Prepared once per connection: the sender polls these. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }
}

function toOutboxRow(r: RawOutboxRow): OutboxRow {
  return {
    runId: r.run_id, round: r.round, payload: JSON.parse(r.payload) as OutboxPayload, status: r.status, txHash: r.tx_hash,
    outcome: r.outcome, attempts: r.attempts, lastError: r.last_error, createdAt: r.created_at, updatedAt: r.updated_at, sentAt: r.sent_at,
  };
}
