/**
 * The one typed state object of a SecAgg+ round on the coordinator, and the helpers every stage
 * shares: recording a dropout, checking the threshold, pruning thin neighbourhoods, failing early
 * when a secret can no longer be reconstructed. Each stage (./*.ts) reads and writes only this.
 *
 * What it can hold: signed public keys, ciphertexts it cannot read, share hashes, ONE running sum
 * of masked vectors (each reply is added on arrival and, without groupScoring, not kept), and
 * reconstructed seeds and keys (b of survivors, s_sk of workers that dropped). Under groupScoring
 * it also keeps each contributor's masked vector until unmask, and the cross-group pairwise seeds
 * revealed there (core/secagg/scoring-groups.ts). No field carries one worker's unmasked update.
 * U1…U4 are Bonawitz et al.'s survivor sets.
 */
import { CohortError, type ErrorCode } from '../../protocol/errors.js';
import { SECAGG_REQUEST_TYPE, type AdvertiseKeysReply, type KeyAgreement, type SecAggStage } from '../../protocol/secagg.js';
import type { SecAggConfig } from '../config.js';
import type { NeighbourGraph } from '../graph.js';
import type { CrossReveal } from '../group-unmask.js';
import type { ByWorker, DealtShares } from '../replies.js';
import { findUnrecoverable, pruneThinNeighbourhoods } from '../survival.js';
import type { RoundContext, SecAggVerify } from '../transcript.js';

export type SecAggServerStage = SecAggStage | 'done' | 'failed';

export interface Dropout {
  stage: SecAggStage;
  reason: string;
  /** Absent for a plain timeout or disconnect. */
  code?: ErrorCode;
}

/** Fixed when the round is created. */
export interface RoundParameters {
  readonly ctx: RoundContext;
  readonly config: SecAggConfig;
  /** Model parameters d; masked vectors have d + 1 words (the last is the weight). */
  readonly dimension: number;
  readonly maxWeight: number;
  readonly alg: KeyAgreement;
  readonly graphSeed: Uint8Array;
  readonly graph: NeighbourGraph;
  /** graph.participants as a set. */
  readonly members: ReadonlySet<string>;
  readonly verify: SecAggVerify;
}

export interface SecAggRoundState extends RoundParameters {
  stage: SecAggServerStage;
  /** Who takes part in the open stage, and who of them has answered it. */
  expected: Set<string>;
  replied: Set<string>;
  dropouts: Map<string, Dropout>;
  /** advertise-keys */
  adverts: Map<string, AdvertiseKeysReply>;
  u1: ReadonlySet<string>;
  /** share-keys */
  dealt: Map<string, DealtShares>;
  u2: ReadonlySet<string>;
  /** v → the neighbours whose shares were routed to v: exactly those v masks with (symmetric). */
  maskedWith: Map<string, readonly string[]>;
  /** masked-input: Σ y so far; U3 = contributors, whose input is in it (irrevocable). */
  maskedSum: Uint32Array;
  contributors: Set<string>;
  /** masked-input, under groupScoring only: each contributor's masked vector y, kept until unmask. */
  maskedInputs: Map<string, Uint32Array>;
  /** masked-input close, under groupScoring only: the contributors' scoring groups and member → group index. */
  scoring?: { groups: string[][]; groupOf: Map<string, number> };
  /** Dealers a holder proved dealt shares that differ from the hashes they signed (issue 13.6). */
  badDealers: Set<string>;
  /** consistency-check: the sorted contributors, the bytes each signs, and who signed. */
  survivors: readonly string[];
  survivorBytes: Uint8Array;
  signatures: Map<string, string>;
  u4: ReadonlySet<string>;
  /** unmask */
  revealed: Map<string, { b: ByWorker; s: ByWorker }>;
  /** unmask, under groupScoring: the cross-group seeds each answering survivor revealed. */
  crossSeeds: Map<string, CrossReveal>;
  failure?: CohortError;
}

export function createRoundState(p: RoundParameters): SecAggRoundState {
  const empty = new Set<string>();
  return {
    ...p,
    stage: 'advertise-keys',
    expected: new Set(p.graph.participants),
    replied: new Set(),
    dropouts: new Map(),
    adverts: new Map(),
    u1: empty,
    dealt: new Map(),
    u2: empty,
    maskedWith: new Map(),
    maskedSum: new Uint32Array(0),
    contributors: new Set(),
    maskedInputs: new Map(),
    badDealers: new Set(),
    survivors: [],
    survivorBytes: new Uint8Array(0),
    signatures: new Map(),
    u4: empty,
    revealed: new Map(),
    crossSeeds: new Map(),
  };
}

export const invalid = (m: string): CohortError => new CohortError('E_SECAGG_INVALID', m);

/** The fields every request starts with. */
export function requestBase(s: RoundParameters): { type: typeof SECAGG_REQUEST_TYPE; runId: string; round: number } {
  return { type: SECAGG_REQUEST_TYPE, ...s.ctx };
}

/**
 * Record `id` as dropped (once) and stop expecting it in the open stage. `stage` defaults to the
 * open one. A masked input already summed cannot be taken back: its sender stays in U3.
 */
export function recordDropout(s: SecAggRoundState, id: string, reason: string, code?: ErrorCode, stage?: SecAggStage): boolean {
  if (s.stage === 'done' || s.stage === 'failed' || s.dropouts.has(id) || !s.members.has(id)) return false;
  s.dropouts.set(id, { stage: stage ?? s.stage, reason, ...(code ? { code } : {}) });
  s.expected.delete(id);
  return true;
}

/** Workers of `ids` not dropped. */
export function alive(s: SecAggRoundState, ids: Iterable<string>): string[] {
  return [...ids].filter((id) => !s.dropouts.has(id));
}

/** E_SECAGG_THRESHOLD unless `count` reaches the threshold. */
export function requireThreshold(s: RoundParameters, count: number, what: string): void {
  const t = s.config.threshold;
  if (count < t) throw new CohortError('E_SECAGG_THRESHOLD', `only ${count} ${what}; the threshold is ${t}`);
}

/** Drop workers left with fewer than t − 1 neighbours in `set` (see survival.ts); the rest must still reach t. */
export function pruneThin(s: SecAggRoundState, set: Set<string>, what: string): Set<string> {
  const t = s.config.threshold;
  pruneThinNeighbourhoods(set, (id) => s.graph.neighboursOf(id), t, (u, left) =>
    recordDropout(s, u, `only ${left} of its neighbours ${what}; ${t - 1} needed`, 'E_SECAGG_THRESHOLD'),
  );
  requireThreshold(s, set.size, what);
  return set;
}

/** Fail early if some secret could no longer be reconstructed by the workers still taking part. */
export function requireRecoverable(s: SecAggRoundState, responders: readonly string[]): void {
  const t = s.config.threshold;
  const lost = findUnrecoverable(s.u2, s.maskedWith, s.contributors, new Set(responders), t);
  if (lost) throw new CohortError('E_SECAGG_THRESHOLD', `only ${lost.holders} holders of ${lost.id}'s ${lost.secret} shares remain; ${t} needed`);
}
