/**
 * A quality-paid round's published scoring: everything anyone needs to recompute the round's
 * reward list from chain data alone, emitted with the round (the ledger's RoundScored event):
 *
 *   - the quality rule's parameters and the estimator's settings (the published rule is this
 *     code: quality-estimator.ts and quality-rule.ts, replayed by scoring-replay.ts);
 *   - what the estimator observed this round: each scoring group's members and score, and
 *     whether the scores were on relativeProgress's absolute scale or raw marginals (pooled);
 *   - each paid worker's credited work before its quality factor, the round's reward and caps.
 *
 * Numbers the estimator computes with travel as their IEEE-754 bits (bytes8), not as decimals,
 * so a replay feeds the estimator exactly what the coordinator's did and gets the same factors
 * to the last bit: a rounded score could move a ⌊work × factor⌋ by one unit and fail an honest
 * run's audit. The assignment root is a Merkle root over (worker, group index) leaves, so a
 * worker can prove which group it was scored in.
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, ZeroHash, getAddress } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';
import type { GroupObservation, QualityEstimatorOptions } from './quality-estimator.js';
import type { QualityRule } from './quality-rule.js';

/** 2: the rule carries referenceExamples (the reference update's sample size). */
export const SCORING_RECORD_VERSION = 2;

/** What the estimator observed for one round (observeRound's input). */
export interface ScoringObservation {
  readonly groups: ReadonlyArray<GroupObservation>;
  /** Scores on relativeProgress's absolute scale (scale 1); false: raw marginals under the pooled scale. */
  readonly relative: boolean;
}

/** A round's scoring as the engine hands it to the ledger; the ledger adds the work, reward and caps. */
export interface RoundScoringRecord {
  readonly observation: ScoringObservation | undefined;
  readonly rule: QualityRule;
  readonly estimator: QualityEstimatorOptions;
}

export interface ScoringRecord {
  readonly rule: QualityRule;
  readonly estimator: QualityEstimatorOptions;
  /** Undefined: the round was not scored (too few groups, a non-finite loss); the estimates stand. */
  readonly observation: ScoringObservation | undefined;
  /** Credited work (before the quality factor) of every worker the round may pay. */
  readonly work: ReadonlyArray<{ readonly address: string; readonly work: number }>;
  readonly roundReward: bigint;
  readonly perWorkerContributionCap?: number | undefined;
  readonly perAddressRewardCapWei?: bigint | undefined;
}

const RULE_FIELDS = ['floor', 'margin', 'minGroupSize', 'flagBelow', 'flagConfidence', 'referenceExamples'] as const;
const ESTIMATOR_FIELDS = ['ridge', 'minGroupSize', 'scoreClip', 'scaleWindow', 'priorVariance', 'priorWeight'] as const;
const NONE = (1n << 256n) - 1n;
/** The record's ABI type (one tuple), for anyone decoding RoundScored events. */
export const SCORING_RECORD_ABI_TYPE =
  'tuple(uint8 version, bytes8[] rule, bool excludeFlagged, bytes8[] estimator, bool observed, bool relative, ' +
  'tuple(address[] members, bytes8 score)[] groups, tuple(address account, uint64 work)[] work, ' +
  'uint256 roundReward, uint256 perWorkerContributionCap, uint256 perAddressRewardCapWei)';

/** A double's exact bits, big-endian, as bytes8 hex. */
function bitsOf(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  let hex = '0x';
  for (let i = 0; i < 8; i++) hex += view.getUint8(i).toString(16).padStart(2, '0');
  return hex;
}

function numberOf(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 8; i++) view.setUint8(i, Number.parseInt(bits.slice(2 + 2 * i, 4 + 2 * i), 16));
  return view.getFloat64(0);
}

export function encodeScoringRecord(record: ScoringRecord): string {
  const observation = record.observation;
  const value = {
    version: SCORING_RECORD_VERSION,
    rule: RULE_FIELDS.map((k) => bitsOf(record.rule[k])),
    excludeFlagged: record.rule.excludeFlagged,
    estimator: ESTIMATOR_FIELDS.map((k) => bitsOf(record.estimator[k])),
    observed: observation !== undefined,
    relative: observation?.relative ?? false,
    groups: (observation?.groups ?? []).map((g) => ({ members: g.members.map((m) => getAddress(m)), score: bitsOf(g.score) })),
    work: record.work.map((w) => ({ account: getAddress(w.address), work: BigInt(w.work) })),
    roundReward: record.roundReward,
    perWorkerContributionCap: record.perWorkerContributionCap === undefined ? NONE : BigInt(record.perWorkerContributionCap),
    perAddressRewardCapWei: record.perAddressRewardCapWei ?? NONE,
  };
  return AbiCoder.defaultAbiCoder().encode([SCORING_RECORD_ABI_TYPE], [value]);
}

/** Decodes a RoundScored record; E_LEDGER_INPUT when it is not one this code can replay. */
export function decodeScoringRecord(hex: string): ScoringRecord {
  let decoded;
  try {
    decoded = AbiCoder.defaultAbiCoder().decode([SCORING_RECORD_ABI_TYPE], hex)[0];
  } catch (err) {
    throw new CohortError('E_LEDGER_INPUT', 'a RoundScored record that does not decode', { cause: err });
  }
  if (Number(decoded.version) !== SCORING_RECORD_VERSION) {
    throw new CohortError('E_LEDGER_INPUT', `scoring record version ${decoded.version}; this code replays version ${SCORING_RECORD_VERSION}`);
  }
  const ruleValues = (decoded.rule as string[]).map(numberOf);
  const estimatorValues = (decoded.estimator as string[]).map(numberOf);
  if (ruleValues.length !== RULE_FIELDS.length || estimatorValues.length !== ESTIMATOR_FIELDS.length) {
    throw new CohortError('E_LEDGER_INPUT', 'a scoring record whose rule or estimator settings have the wrong length');
  }
  const rule = Object.fromEntries(RULE_FIELDS.map((k, i) => [k, ruleValues[i]!])) as Omit<QualityRule, 'excludeFlagged'>;
  const estimator = Object.fromEntries(ESTIMATOR_FIELDS.map((k, i) => [k, estimatorValues[i]!])) as unknown as QualityEstimatorOptions;
  const groups = (decoded.groups as Array<{ members: string[]; score: string }>).map((g) => ({ members: [...g.members], score: numberOf(g.score) }));
  const workerCap = decoded.perWorkerContributionCap as bigint;
  const addressCap = decoded.perAddressRewardCapWei as bigint;
  return {
    rule: { ...rule, excludeFlagged: Boolean(decoded.excludeFlagged) },
    estimator,
    observation: decoded.observed ? { groups, relative: Boolean(decoded.relative) } : undefined,
    work: (decoded.work as Array<{ account: string; work: bigint }>).map((w) => ({ address: w.account, work: Number(w.work) })),
    roundReward: decoded.roundReward as bigint,
    perWorkerContributionCap: workerCap === NONE ? undefined : Number(workerCap),
    perAddressRewardCapWei: addressCap === NONE ? undefined : addressCap,
  };
}

/** Root over (worker, group index) leaves of the round's scoring groups; the zero hash when there are none. */
export function assignmentRoot(groups: ReadonlyArray<{ readonly members: readonly string[] }>): string {
  const leaves = groups.flatMap((g, index) => g.members.map((m): [string, number] => [getAddress(m), index]));
  return leaves.length === 0 ? ZeroHash : StandardMerkleTree.of(leaves, ['address', 'uint32']).root;
}
