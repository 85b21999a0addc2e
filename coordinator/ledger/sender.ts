/**
 * Delivers the ledger outbox to the chain: one row at a time, lowest round first, retrying with
 * exponential backoff while the chain is unreachable or the transaction fails.
 *
 * Exactly-once comes from the contract, not from us: recordRound is idempotent per (run, round).
 * If we crash after the chain took a round but before the row was marked, or the receipt was
 * lost in an outage, the retry finds the round's own event and resolves 'already-recorded' with
 * the original transaction, so the row is marked with that hash and nothing is sent twice. The
 * same round on chain with a different root is E_LEDGER_ROUND_CONFLICT: the store and the chain
 * disagree about history, which no retry can fix, so the row is marked `conflict`, logged as an
 * error, and the sender stops there (later roots build on it) until a person looks.
 */
import { CohortError } from '../../core/protocol/errors.js';
import { recordRound, type Ledger, type RecordOutcome } from '../../contracts/ledger-client.js';
import type { LogFn } from '../log.js';
import type { LedgerTables } from '../store/ledger-tables.js';
import { payloadEntries, type OutboxRow } from './outbox.js';

export interface SenderOptions {
  /** The run store's ledger tables (`store.ledger`). */
  readonly tables: LedgerTables;
  /** The run store's run whose rows this sender delivers. */
  readonly runId: string;
  /**
   * Earlier runs of the store, on the same ledger and key, whose rows never went out (the
   * coordinator stopped right after their last round). Delivered first, oldest first.
   */
  readonly earlierRunIds?: readonly string[] | undefined;
  /** The ledger, with the coordinator's signer. */
  readonly ledger: Ledger;
  readonly log?: LogFn | undefined;
  /** First retry delay; doubles per consecutive failure. Default 500 ms. */
  readonly initialBackoffMs?: number | undefined;
  /** Longest retry delay. Default 30 000 ms. */
  readonly maxBackoffMs?: number | undefined;
  /** How often an idle sender looks for rows nobody told it about. Default 5 000 ms. */
  readonly idlePollMs?: number | undefined;
}

/** Sends one outbox row's round; resolves 'recorded' or 'already-recorded'. Used by the sender and its tests. */
export async function deliver(ledger: Ledger, row: OutboxRow): Promise<RecordOutcome> {
  const { payload } = row;
  if (payload.ledger.toLowerCase() !== ledger.address.toLowerCase()) {
    throw new CohortError('E_CONFIG_INVALID', `outbox round ${row.round} is for ledger ${payload.ledger}, not ${ledger.address}`);
  }
  return recordRound(ledger, {
    runId: BigInt(payload.chainRunId),
    round: payload.round,
    modelHash: payload.modelHash,
    entries: payloadEntries(payload),
    cumulativeRoot: payload.cumulativeRoot,
    scoring: payload.scoring,
  });
}

export class LedgerSender {
  private readonly options: SenderOptions;
  private readonly log: LogFn;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private failures = 0;
  private conflictError: CohortError | undefined;
  private readonly conflicted = new Set<string>();
  private readonly runIds: readonly string[];

  constructor(options: SenderOptions) {
    this.options = options;
    this.log = options.log ?? (() => undefined);
    this.runIds = [...(options.earlierRunIds ?? []).filter((id) => id !== options.runId), options.runId];
  }

  /** Starts the background loop (idempotent). */
  start(): this {
    if (!this.stopped) this.loop ??= this.run();
    return this;
  }

  /** A row was enqueued: look now rather than at the next poll. Safe to call inside the round's transaction. */
  notify(): void {
    // After the current (synchronous) transaction has committed, never inside it.
    setImmediate(() => this.wake?.());
  }

  /** Rounds not yet on chain, conflicts included: cohort_ledger_outbox_pending. */
  pendingCount(): number {
    const { tables } = this.options;
    return tables.isOpen ? this.runIds.reduce((n, id) => n + tables.unsentCount(id), 0) : 0;
  }

  /** The last attempt succeeded and nothing is in conflict: waiting for a drain is worth it. */
  get healthy(): boolean {
    return this.failures === 0 && this.conflictError === undefined;
  }

  /** The conflict that stopped this sender, if any. */
  get conflict(): CohortError | undefined {
    return this.conflictError;
  }

  /**
   * Resolves true once every row is sent, false after `timeoutMs` (or, with `whileHealthy`, as
   * soon as an attempt fails). Rejects with the
   * E_LEDGER_ROUND_CONFLICT error if a row is in conflict, since it would never drain.
   */
  async drain(timeoutMs: number, options: { whileHealthy?: boolean } = {}): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const conflict = this.conflictError ?? this.storedConflict();
      if (conflict) throw conflict;
      if (this.pendingCount() === 0) return true;
      // On shutdown there is no point waiting out an outage: the rows keep for the next start.
      if (Date.now() >= deadline || (options.whileHealthy === true && !this.healthy)) return false;
      await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    }
  }

  /**
   * Stops the loop. A send in flight is awaited up to `graceMs` (default 10 s); if it is still
   * going, its row stays pending and the next sender finds it already recorded.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  private storedConflict(): CohortError | undefined {
    const { tables } = this.options;
    for (const id of tables.isOpen ? this.runIds : []) {
      const row = tables.firstUnsent(id);
      if (row?.status === 'conflict') return new CohortError('E_LEDGER_ROUND_CONFLICT', row.lastError ?? `round ${row.round} conflicts with the chain`);
    }
    return undefined;
  }

  /** The next row to send: the lowest unsent round of the first run that has one and is not blocked by a conflict. */
  private nextRow(): OutboxRow | undefined {
    for (const id of this.runIds) {
      const row = this.options.tables.firstUnsent(id);
      if (!row) continue;
      if (row.status !== 'conflict') return row;
      if (!this.conflicted.has(id)) {
        this.conflicted.add(id);
        this.conflictError ??= new CohortError('E_LEDGER_ROUND_CONFLICT', row.lastError ?? `round ${row.round} conflicts with the chain`);
        this.log('error', `ledger: round ${row.round} of run ${id} is in conflict with the chain; no later round of it will be sent: ${row.lastError ?? ''}`);
      }
    }
    return undefined;
  }

  private async run(): Promise<void> {
    const { tables } = this.options;
    while (!this.stopped && tables.isOpen) {
      const row = this.nextRow();
      if (row) await this.attempt(row);
      else await this.pause(this.options.idlePollMs ?? 5_000);
    }
  }

  private async attempt(row: OutboxRow): Promise<void> {
    const { tables } = this.options;
    const { runId } = row;
    try {
      const outcome = await deliver(this.options.ledger, row);
      if (!tables.isOpen) return; // the store closed while we waited: the row is re-found as already recorded
      tables.markSent(runId, row.round, { txHash: outcome.txHash, outcome: outcome.status });
      this.failures = 0;
      this.log('info', `ledger: round ${row.round} ${outcome.status} in ${outcome.txHash} (${row.payload.entries.length} workers, ${row.payload.roundTotal} wei)`, {
        round: row.round,
        txHash: outcome.txHash,
        gasUsed: outcome.gasUsed.toString(),
      });
    } catch (err) {
      if (!tables.isOpen) return;
      const message = err instanceof Error ? `${err instanceof CohortError ? `${err.code}: ` : ''}${err.message}` : String(err);
      if (err instanceof CohortError && err.code === 'E_LEDGER_ROUND_CONFLICT') {
        tables.markConflict(runId, row.round, message);
        this.conflictError = err;
        this.log('error', `ledger: CONFLICT on round ${row.round} of run ${runId}: ${message}. Not retrying; later rounds are held back.`, {
          round: row.round,
          details: err.details,
        });
        return;
      }
      tables.markFailed(runId, row.round, message);
      this.failures += 1;
      const delay = Math.min(this.options.maxBackoffMs ?? 30_000, (this.options.initialBackoffMs ?? 500) * 2 ** Math.min(this.failures - 1, 30));
      // An unreachable chain is expected to heal; a revert (wrong key, underfunded run) needs a person.
      const level = err instanceof CohortError && err.code === 'E_CHAIN_UNAVAILABLE' ? 'warn' : 'error';
      this.log(level, `ledger: round ${row.round} not recorded (attempt ${row.attempts + 1}): ${message}; retrying in ${delay} ms`, { round: row.round });
      await this.pause(delay);
    }
  }

  /** Sleeps `ms`, or until notify() or stop(). */
  private async pause(ms: number): Promise<void> {
    if (this.stopped) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.wake = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
