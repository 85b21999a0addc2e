/**
 * Every JSON body the coordinator's HTTP API sends, in one place: the server builds them, and the
 * dashboard page and the worker page read them. Types only, importing nothing, so each side (Node,
 * browser page, bundle) can use it.
 *
 * Dashboard (coordinator/dashboard/routes.ts): a page loads `GET /api/runs/:id` (a RunSnapshot),
 * then follows `GET /api/runs/:id/events` (SSE): one `snapshot` event, then `delta` events that
 * upsert rows by key. Deltas are coalesced on the server (a few per second at most), so 1,000
 * workers never mean 1,000 messages.
 *
 * Rewards (coordinator/ledger/rewards-route.ts): `GET /api/rewards/:address` answers a RewardsBody,
 * or `{ enabled: false }` when the run records no rewards.
 */

export type RunStatusName = 'running' | 'completed' | 'failed' | 'stopped';

export interface RunListItem {
  id: string;
  status: RunStatusName;
  createdAt: number;
  endedAt: number | null;
  endReason: string | null;
  /** The run this coordinator's engine is running now (live updates, admin actions). */
  live: boolean;
  completedRounds: number;
  totalRounds: number | null;
  /** e.g. "builtin 2nn". */
  model: string;
}

export interface StageInfo {
  round: number;
  attempt: number;
  /** 'waiting', 'training', a SecAgg+ stage name, 'completed', 'failed', 'ended'. */
  stage: string;
  detail: string;
  since: number;
  deadline: number | null;
}

export interface WorkerRow {
  address: string;
  kind: 'node' | 'browser';
  backend: string;
  /** GPU adapter or device, where the worker reported one. */
  adapter: string | null;
  backendReason: string | null;
  /** Examples trained per second: measured from the last update, else the backend benchmark. */
  examplesPerSecond: number | null;
  /** The coordinator's speed estimate (steps/s) when it last assigned work (targetRoundSeconds sizes work by it). */
  stepsPerSecond?: number | null;
  /** maxLocalSteps of the worker's last assignment (null: uncapped). */
  assignedSteps?: number | null;
  /** Contribution scoring (rewards.quality): the estimator's quality (1 ≈ the round's average group, 0 nothing, < 0 harmful) … */
  quality?: number | null;
  /** … its confidence in [0, 1] … */
  qualityConfidence?: number | null;
  /** … and whether the worker is flagged as confidently harmful. */
  flagged?: boolean;
  localExamples: number;
  rounds: number;
  /** Unknown (null) for runs read back from the store. */
  dropouts: number | null;
  connected: boolean;
  lastSeen: number;
  leftReason: string | null;
}

export interface ContributionRow {
  address: string;
  rounds: number;
  examples: number;
  /** Contribution units recorded for the ledger: examples × local epochs, capped. */
  amount: number;
  /** Reward earned so far, as the ledger formats it (e.g. "0.0125 ETH"); null without a ledger. */
  reward: string | null;
  /** The transaction that recorded this worker's latest contribution; null until mined. */
  txHash: string | null;
}

export interface RoundRow {
  round: number;
  completedAt: number;
  durationMs: number;
  participants: number;
  examples: number;
  accuracy: number | null;
  loss: number | null;
  trainLoss: number | null;
  secure: boolean;
  /** Dropped workers in this round; null when unknown (read back from the store). */
  dropped: number | null;
  /** Over-selected workers the round closed without (cancelled stragglers); null when unknown. */
  stragglersCut: number | null;
  /** Async mode: versions the applied group lagged behind; null in sync mode or when unknown. */
  staleness: number | null;
  txHash: string | null;
}

export type IncidentKind = 'dropped' | 'left' | 'round-failed' | 'run-ended' | 'admin';

export interface Incident {
  /** Increasing; the page de-duplicates by it. */
  id: number;
  at: number;
  kind: IncidentKind;
  round: number | null;
  address: string | null;
  reason: string;
}

export interface PrivacySpent {
  epsilon: number;
  delta: number | null;
}

export interface Traffic {
  bytesIn: number;
  bytesOut: number;
  connected: number;
}

export interface RunSnapshot {
  run: RunListItem;
  paused: boolean;
  stage: StageInfo | null;
  rounds: RoundRow[];
  workers: WorkerRow[];
  contributions: ContributionRow[];
  incidents: Incident[];
  /** Protocol errors answered to workers, by code (E_…). */
  errors: Record<string, number>;
  /** ε spent so far, where differential privacy is on. */
  privacy: PrivacySpent | null;
  traffic: Traffic | null;
  serverTime: number;
}

/** Changes since the last delta: rows are upserts keyed by address or round; incidents append. */
export interface RunDelta {
  run?: RunListItem;
  paused?: boolean;
  stage?: StageInfo | null;
  rounds?: RoundRow[];
  workers?: WorkerRow[];
  contributions?: ContributionRow[];
  incidents?: Incident[];
  errors?: Record<string, number>;
  privacy?: PrivacySpent | null;
  traffic?: Traffic | null;
  serverTime: number;
}

export type AdminAction = 'pause' | 'resume' | 'stop';

export interface AdminResult {
  ok: true;
  action: AdminAction;
  paused: boolean;
  status: RunStatusName;
}

export interface ApiError {
  error: string;
  message: string;
}

// GET /api/rewards/:address

export interface RewardsChainInfo {
  rpcUrl: string | undefined;
  chainId: number;
  ledger: string;
  /** The contract's run id, as a decimal string. */
  run: string;
  /** ZeroAddress for an ETH run, the ERC-20 otherwise; absent until the chain has answered once. */
  token?: string;
}

export interface RewardsBody {
  enabled: true;
  chain: RewardsChainInfo;
  account: string;
  /** The latest round on chain; the proof is for its root. */
  round: number;
  root: string;
  cumulative: string;
  proof: string[];
  claimed?: string;
  claimable?: string;
}
