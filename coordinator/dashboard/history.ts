/**
 * Dashboard rows read back from the run store: the list of runs, and the full view of a run that
 * is not the live one (or the history the live view starts from). Everything here is a plain
 * function of the store and the providers.
 */
import type { RunRow, RunStore } from '../store/run-store.js';
import type { ContributionRow, Incident, RoundRow, RunListItem, RunSnapshot, WorkerRow } from './api-types.js';
import type { ProviderReadings } from './providers.js';

/** The part of the run store the dashboard reads. */
export type StoreView = Pick<RunStore, 'getRun' | 'listRuns' | 'rounds' | 'roundFailures' | 'contributions' | 'sessions' | 'lastCompletedRound'>;

/** What the dashboard needs from a run's stored config (which it reads defensively). */
export interface ConfigFacts {
  totalRounds: number | null;
  batchSize: number | null;
  model: string;
}

export function configFacts(config: unknown): ConfigFacts {
  const c = (typeof config === 'object' && config !== null ? config : {}) as Record<string, unknown>;
  const model = (typeof c.model === 'object' && c.model !== null ? c.model : {}) as Record<string, unknown>;
  const name = typeof model.name === 'string' ? model.name : typeof model.url === 'string' ? model.url : '';
  return {
    totalRounds: typeof c.rounds === 'number' ? c.rounds : null,
    batchSize: typeof c.batchSize === 'number' ? c.batchSize : null,
    model: [typeof model.kind === 'string' ? model.kind : 'model', name].filter(Boolean).join(' '),
  };
}

export function runListItem(store: StoreView, row: RunRow, liveRunId: string | undefined): RunListItem {
  const facts = configFacts(row.config);
  return {
    id: row.id,
    status: row.status,
    createdAt: row.createdAt,
    endedAt: row.endedAt,
    endReason: row.endReason,
    live: row.id === liveRunId && row.status === 'running',
    completedRounds: store.lastCompletedRound(row.id),
    totalRounds: facts.totalRounds,
    model: facts.model,
  };
}

export function storedRounds(store: StoreView, runId: string, readings: ProviderReadings): RoundRow[] {
  return store.rounds(runId).map((r) => ({
    round: r.round,
    completedAt: r.completedAt,
    durationMs: r.durationMs,
    participants: r.participants,
    examples: r.examples,
    accuracy: r.accuracy,
    loss: r.loss,
    trainLoss: r.trainLoss,
    secure: r.secure,
    dropped: null,
    stragglersCut: null,
    staleness: null,
    txHash: readings.roundTransactions.get(r.round) ?? null,
  }));
}

/**
 * Contributions summed per worker, with the reward and the transaction of the newest recorded
 * round the worker took part in (a round is recorded on-chain as one transaction).
 */
export function storedContributions(store: StoreView, runId: string, readings: ProviderReadings): ContributionRow[] {
  const byAddress = new Map<string, ContributionRow & { txRound: number }>();
  // Addresses are compared without case: the ledger may key them lower-case, the store checksummed.
  const rewards = new Map([...readings.rewards].map(([address, reward]) => [address.toLowerCase(), reward]));
  for (const c of store.contributions(runId)) {
    let row = byAddress.get(c.address);
    if (!row) {
      row = { address: c.address, rounds: 0, examples: 0, amount: 0, reward: rewards.get(c.address.toLowerCase()) ?? null, txHash: null, txRound: -1 };
      byAddress.set(c.address, row);
    }
    row.rounds += 1;
    row.examples += c.examples;
    row.amount += c.amount;
    const tx = readings.roundTransactions.get(c.round);
    if (tx !== undefined && c.round > row.txRound) {
      row.txRound = c.round;
      row.txHash = tx;
    }
  }
  return [...byAddress.values()].map(({ txRound: _txRound, ...row }) => row);
}

export function storedFailures(store: StoreView, runId: string, nextId: () => number): Incident[] {
  return store.roundFailures(runId).map((f) => ({ id: nextId(), at: f.failedAt, kind: 'round-failed', round: f.round, address: null, reason: f.reason }));
}

/** Workers of a stored run, from its sessions (the newest session of each address wins). */
export function storedWorkers(store: StoreView, runId: string, contributions: readonly ContributionRow[]): WorkerRow[] {
  const rounds = new Map(contributions.map((c) => [c.address, c.rounds]));
  const byAddress = new Map<string, WorkerRow>();
  for (const s of store.sessions()) {
    if (s.runId !== runId) continue;
    const { address } = s;
    byAddress.set(address, {
      address,
      kind: s.kind === 'browser' ? 'browser' : 'node',
      backend: s.backend ?? '',
      adapter: null,
      backendReason: s.backendReason ?? null,
      examplesPerSecond: null,
      localExamples: 0,
      rounds: rounds.get(address) ?? 0,
      dropouts: null,
      connected: s.disconnectedAt === null,
      lastSeen: s.disconnectedAt ?? s.connectedAt,
      leftReason: s.closeReason !== null && s.closeReason !== '' ? s.closeReason : null,
    });
  }
  return [...byAddress.values()];
}

/** The whole view of a run that this coordinator is not running (read-only, no live updates). */
export function storedSnapshot(store: StoreView, runId: string, readings: ProviderReadings, now = Date.now()): RunSnapshot | undefined {
  const row = store.getRun(runId);
  if (!row) return undefined;
  let id = 0;
  const contributions = storedContributions(store, runId, readings);
  const incidents = storedFailures(store, runId, () => ++id);
  if (row.status !== 'running' && row.status !== 'completed' && row.endReason) {
    incidents.push({ id: ++id, at: row.endedAt ?? now, kind: 'run-ended', round: null, address: null, reason: `${row.status}: ${row.endReason}` });
  }
  return {
    run: runListItem(store, row, undefined),
    paused: false,
    stage: null,
    rounds: storedRounds(store, runId, readings),
    workers: storedWorkers(store, runId, contributions),
    contributions,
    incidents,
    errors: {},
    privacy: readings.privacy,
    traffic: null,
    serverTime: now,
  };
}
