/**
 * Reading a run back from the chain: its RoundRecorded and Claimed events, and an audit that
 * rebuilds every cumulative root from the recorded lists alone. That audit is what lets a worker
 * (or anyone) check the coordinator, and take a proof without asking it. Runtime-neutral.
 */
import { CohortError } from '../core/protocol/errors.js';
import { RewardTree, accumulate, sumRound, unpackRound, type RewardEntry, type RewardProof } from './merkle.js';
import { call, queryEvents, type Ledger, type OnChain } from './ledger-tx.js';

export interface RoundRecord extends OnChain {
  readonly runId: bigint;
  readonly round: number;
  readonly modelHash: string;
  readonly roundTotal: bigint;
  readonly cumulativeRoot: string;
  readonly entries: RewardEntry[];
}

export interface ClaimRecord extends OnChain {
  readonly runId: bigint;
  readonly account: string;
  readonly amount: bigint;
  readonly cumulativeAmount: bigint;
}

/** RoundRecorded events of a run, oldest first, with their lists unpacked. */
export async function roundRecords(ledger: Ledger, runId: bigint, filter: { round?: number } = {}): Promise<RoundRecord[]> {
  const logs = await queryEvents(ledger, 'RoundRecorded', [runId, filter.round ?? null]);
  return logs.map((log) => ({
    txHash: log.transactionHash,
    blockNumber: log.blockNumber,
    runId: log.args[0] as bigint,
    round: Number(log.args[1] as bigint),
    modelHash: log.args[2] as string,
    roundTotal: log.args[3] as bigint,
    cumulativeRoot: log.args[4] as string,
    entries: unpackRound(log.args[5] as string),
  }));
}

export interface ScoringRecord extends OnChain {
  readonly runId: bigint;
  readonly round: number;
  readonly assignmentRoot: string;
  /** The encoded scoring record (coordinator/contribution/scoring-record.ts decodes it). */
  readonly record: string;
}

/** RoundScored events of a run, oldest first: the published scoring of quality-paid rounds. */
export async function scoringRecords(ledger: Ledger, runId: bigint, filter: { round?: number } = {}): Promise<ScoringRecord[]> {
  const logs = await queryEvents(ledger, 'RoundScored', [runId, filter.round ?? null]);
  return logs.map((log) => ({
    txHash: log.transactionHash,
    blockNumber: log.blockNumber,
    runId: log.args[0] as bigint,
    round: Number(log.args[1] as bigint),
    assignmentRoot: log.args[2] as string,
    record: log.args[3] as string,
  }));
}

/** Claimed events of a run, optionally for one account, oldest first. */
export async function claimRecords(ledger: Ledger, runId: bigint, filter: { account?: string } = {}): Promise<ClaimRecord[]> {
  const logs = await queryEvents(ledger, 'Claimed', [runId, filter.account ?? null]);
  return logs.map((log) => ({
    txHash: log.transactionHash,
    blockNumber: log.blockNumber,
    runId: log.args[0] as bigint,
    account: log.args[1] as string,
    amount: log.args[2] as bigint,
    cumulativeAmount: log.args[3] as bigint,
  }));
}

export interface RunAudit {
  /** Every round checks out: its list sums to roundTotal and the rebuilt root equals the recorded one. */
  readonly ok: boolean;
  readonly rounds: readonly { round: number; sumMatches: boolean; rootMatches: boolean }[];
  /** The tree rebuilt from events alone: a worker can take its proof from here without trusting the coordinator. */
  readonly tree: RewardTree;
  /** The latest rebuilt tree whose root is `options.keepRoot` (a claimable root behind a pending one). */
  readonly kept?: RewardTree | undefined;
}

/** Rebuilds every cumulative root of a run from its events and checks it against what was recorded. */
export async function auditRun(ledger: Ledger, runId: bigint, options: { keepRoot?: string } = {}): Promise<RunAudit> {
  let cumulative = new Map<string, bigint>();
  let tree = RewardTree.build(cumulative);
  let kept = tree.root === options.keepRoot ? tree : undefined;
  const rounds = [];
  for (const record of await roundRecords(ledger, runId)) {
    cumulative = accumulate(cumulative, record.entries);
    tree = RewardTree.build(cumulative);
    if (tree.root === options.keepRoot) kept = tree;
    rounds.push({
      round: record.round,
      sumMatches: sumRound(record.entries) === record.roundTotal,
      rootMatches: tree.root === record.cumulativeRoot,
    });
  }
  return { ok: rounds.every((r) => r.sumMatches && r.rootMatches), rounds, tree, kept };
}

/**
 * A worker's proof against the run's claimable root (behind a pending one during a challenge window), rebuilt from events alone (no trust in the
 * coordinator). E_LEDGER_ROUND_CONFLICT if the recorded lists do not produce the recorded root
 * (the coordinator misreported: `audit` says which round), E_LEDGER_NOT_IN_TREE if `account` has nothing.
 */
export async function proofFromChain(ledger: Ledger, runId: bigint, account: string): Promise<RewardProof & { root: string; audit: RunAudit }> {
  const run = (await call(ledger, 'getRun', [runId])) as { root: string };
  const audit = await auditRun(ledger, runId, { keepRoot: run.root });
  if (audit.kept === undefined) {
    throw new CohortError('E_LEDGER_ROUND_CONFLICT', `run ${runId}: the recorded lists rebuild root ${audit.tree.root}, not the recorded ${run.root}`, {
      details: { rounds: audit.rounds },
    });
  }
  return { ...audit.kept.proof(account), root: run.root, audit };
}
