/**
 * A Strategy decides what each selected worker does in a round and how the round's results become
 * the next global model. The run engine owns the loop and calls these hooks (Flower's shape).
 *
 * Under secure aggregation a strategy sees only the weighted sum of the deltas and the total
 * weight. A strategy that needs the individual updates (median, Krum, …) sets
 * `needsIndividualUpdates`, and the engine refuses to combine it with secure aggregation.
 */
import type { TrainConfig, WorkerKind } from '../../core/protocol/messages.js';

/** A worker the round may give work to, as the strategy sees it (Flower's ClientProxy). */
export interface RoundCandidate {
  readonly address: string;
  readonly kind: WorkerKind;
  /** The backend the worker's benchmark chose (e.g. "webgpu", "wasm"). */
  readonly backend: string;
  /** Local examples the worker declared when it became ready (unverified). */
  readonly examples: number;
}

/** What one worker is asked to do this round (Flower's (client, FitIns) pair). */
export interface WorkerInstruction {
  readonly address: string;
  readonly config: TrainConfig;
}

/** What a round produced, as far as the coordinator may know it. */
export interface RoundAggregate {
  /** Σ wᵢ · deltaᵢ over the contributors, where deltaᵢ = local − global. */
  weightedDeltaSum: Float32Array;
  /** Σ wᵢ. */
  totalWeight: number;
  contributors: number;
  /**
   * Each contributor's own update. Only plain (non-secure) rounds can fill this, and the engine
   * does so only for strategies that set `needsIndividualUpdates`.
   */
  individualUpdates?: ReadonlyArray<IndividualUpdate>;
}

/** One worker's update, as a plain round sees it. */
export interface IndividualUpdate {
  /** local − global. */
  delta: Float32Array;
  /** The worker's aggregation weight (its examples this round). */
  weight: number;
  address: string;
}

/** Server-side optimizer state (momentum, Adam moments), one vector per name; safe to checkpoint. */
export type StrategyState = Record<string, Float32Array>;

export interface Strategy {
  readonly name: string;
  readonly needsIndividualUpdates: boolean;
  /**
   * Per-worker instructions for the round's selected candidates, from the run's base
   * instructions. A strategy may give workers different work (capability-aware steps) or leave a
   * candidate out; candidates it does not name get no work this round.
   */
  configureRound(round: number, candidates: readonly RoundCandidate[], base: TrainConfig): WorkerInstruction[];
  /** The new global weights. Must not modify `global`. */
  aggregate(round: number, global: Float32Array, result: RoundAggregate): Float32Array;
  /**
   * A copy of the server-side state that `aggregate` carries from round to round, for checkpoints.
   * Stateless strategies return `{}` or leave this out.
   */
  state?(): StrategyState;
  /** Puts back what `state()` returned (e.g. when a run resumes from a checkpoint). */
  restore?(state: StrategyState): void;
}

/** The same instructions for every candidate: what most strategies do. */
export function sameForEveryWorker(candidates: readonly RoundCandidate[], config: TrainConfig): WorkerInstruction[] {
  return candidates.map((candidate) => ({ address: candidate.address, config }));
}
