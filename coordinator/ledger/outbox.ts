/**
 * What each round pays, and the outbox row that asks the chain to record it. The row is written
 * in the round's own transaction (the transactional-outbox pattern): the round, its reward split,
 * everyone's new cumulative total and the row to send commit together or not at all. So after
 * any crash the store says exactly which rounds still have to reach the chain, and the cumulative
 * Merkle root of each round is fixed once, whatever restarts follow.
 *
 * The tables and their SQL are the store's (coordinator/store/ledger-tables.ts, `store.ledger`);
 * this file is the ledger's reading of them: bindings with their reward policy, the round split
 * and the payload with its roots.
 */
import { createHash } from 'node:crypto';
import { CohortError } from '../../core/protocol/errors.js';
import { RewardTree, accumulate, sumRound, type RewardEntry } from '../../contracts/merkle.js';
import type { LedgerTables, OutboxPayload } from '../store/ledger-tables.js';
import { assignmentRoot, encodeScoringRecord, type RoundScoringRecord } from '../contribution/scoring-record.js';
import { allowlistOf, isAllowed, roundReward, splitRound, type RewardPolicy } from './rewards.js';

export type { OutboxPayload, OutboxRow, OutboxStatus } from '../store/ledger-tables.js';

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
export function bindRun(tables: LedgerTables, runId: string, wanted: LedgerBinding, now = Date.now()): { binding: LedgerBinding; differences: string[] } {
  const stored = storedBinding(tables, runId);
  if (!stored) {
    const { chainId, ledgerAddress, chainRunId, fromBlock } = wanted;
    tables.bind(runId, { chainId, ledgerAddress, chainRunId, fromBlock, settings: settingsJson(wanted) }, now);
    return { binding: wanted, differences: [] };
  }
  const a = { chainId: stored.chainId, ledger: stored.ledgerAddress.toLowerCase(), chainRunId: stored.chainRunId.toString(), ...settingsJson(stored) };
  const b = { chainId: wanted.chainId, ledger: wanted.ledgerAddress.toLowerCase(), chainRunId: wanted.chainRunId.toString(), ...settingsJson(wanted) };
  const differences = Object.keys(a).filter((k) => JSON.stringify(a[k as keyof typeof a]) !== JSON.stringify(b[k as keyof typeof b]));
  return { binding: stored, differences };
}

export function storedBinding(tables: LedgerTables, runId: string): LedgerBinding | undefined {
  const row = tables.binding(runId);
  if (!row) return undefined;
  const s = row.settings as ReturnType<typeof settingsJson>;
  return {
    chainId: row.chainId,
    ledgerAddress: row.ledgerAddress,
    chainRunId: row.chainRunId,
    fromBlock: row.fromBlock,
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

export interface EnqueueInput {
  readonly runId: string;
  readonly round: number;
  /** The engine's RoundCommit contributions: credited work (`examples`) and, after any quality factor, `amount`. */
  readonly contributions: ReadonlyArray<{ readonly address: string; readonly amount: number; readonly examples?: number }>;
  readonly weights: Float32Array;
  readonly binding: LedgerBinding;
  /** Under a quality rule: the round's scoring, published with it so the list can be recomputed from chain data. */
  readonly scoring?: RoundScoringRecord | undefined;
  readonly now?: number;
}

/**
 * Splits the round's reward, adds it to the cumulative table and writes the outbox row. Call it
 * inside the transaction that completes the round (RunEngine's onRoundCommit): a throw here rolls
 * the round back with it.
 */
export function enqueueRound(tables: LedgerTables, input: EnqueueInput): OutboxPayload {
  const { binding } = input;
  return tables.enqueueRound(
    input.runId,
    input.round,
    (cumulative) => {
      const reward = roundReward(binding.policy, input.round);
      const split = splitRound({
        reward,
        contributions: input.contributions.map((c) => ({ address: c.address, amount: c.amount, unscaledAmount: c.examples })),
        cumulative,
        perWorkerContributionCap: binding.policy.perWorkerContributionCap,
        perAddressRewardCapWei: binding.policy.perAddressRewardCapWei,
        allowlist: allowlistOf(binding.allowlist),
      });
      const next = accumulate(cumulative, split.entries);
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
        scoring: input.scoring && publishedScoring(input, input.scoring, reward),
      };
      return { payload, totals: new Map(split.entries.map(({ account }) => [account, next.get(account) ?? 0n])) };
    },
    input.now,
  );
}

/**
 * The RoundScored publication: the round's scoring with the work of every worker the split may
 * pay (those off the allowlist earn nothing and are left out, which splits the same), the
 * round's reward and the caps, so that scoring-replay.ts rebuilds this round's list from it.
 */
function publishedScoring(input: EnqueueInput, scoring: RoundScoringRecord, reward: bigint): { assignmentRoot: string; record: string } {
  const allowlist = allowlistOf(input.binding.allowlist);
  const record = encodeScoringRecord({
    ...scoring,
    work: input.contributions.filter((c) => isAllowed(allowlist, c.address)).map((c) => ({ address: c.address, work: c.examples ?? c.amount })),
    roundReward: reward,
    perWorkerContributionCap: input.binding.policy.perWorkerContributionCap,
    perAddressRewardCapWei: input.binding.policy.perAddressRewardCapWei,
  });
  return { assignmentRoot: assignmentRoot(scoring.observation?.groups ?? []), record };
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

/** The coordinator's tree over every enqueued round; its root is the chain's once the outbox is drained. */
export function rewardTreeOf(tables: LedgerTables, runId: string): RewardTree {
  return RewardTree.build(tables.cumulativeRewards(runId));
}
