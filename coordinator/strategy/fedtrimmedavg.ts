/**
 * FedTrimmedAvg (Yin et al., "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
 * Rates", ICML 2018, the coordinate-wise trimmed mean): per coordinate, drop the ⌊β·n⌋ largest and
 * the ⌊β·n⌋ smallest of the workers' values and average the rest. Tolerates up to a β fraction of
 * Byzantine workers. Unweighted, as in the paper and Flower.
 *
 * β defaults to 0.2 (Flower's default). With few workers ⌊β·n⌋ may be 0: then it is the plain
 * unweighted mean.
 *
 * It needs every worker's individual update, so it cannot run under secure aggregation.
 *
 * @example
 * const strategy = new FedTrimmedAvg({ beta: 0.1 });
 */
import type { TrainConfig } from '../../core/protocol/messages.js';
import { requireIndividualUpdates } from './individual-updates.js';
import { coordinateTrimmedMean } from './robust-aggregation.js';
import { STRATEGY_DEFAULTS } from './strategy-defaults.js';
import { sameForEveryWorker, type RoundAggregate, type RoundCandidate, type Strategy, type WorkerInstruction } from './strategy.js';
import { applyDelta } from './vector-math.js';

export interface FedTrimmedAvgOptions {
  /** β ∈ [0, 0.5): the fraction trimmed from EACH end. Default 0.2. */
  beta?: number;
}

export class FedTrimmedAvg implements Strategy {
  readonly name: string = 'fedtrimmedavg';
  readonly needsIndividualUpdates: boolean = true;
  readonly beta: number;

  constructor(options: FedTrimmedAvgOptions = {}) {
    this.beta = options.beta ?? STRATEGY_DEFAULTS.fedtrimmedavg.beta;
    if (!(this.beta >= 0 && this.beta < 0.5)) throw new RangeError(`FedTrimmedAvg β must be in [0, 0.5), got ${this.beta}`);
  }

  configureRound(_round: number, candidates: readonly RoundCandidate[], base: TrainConfig): WorkerInstruction[] {
    return sameForEveryWorker(candidates, base);
  }

  aggregate(_round: number, global: Float32Array, result: RoundAggregate): Float32Array {
    const updates = requireIndividualUpdates(this.name, result);
    if (updates.length === 0) return global.slice();
    return applyDelta(global, coordinateTrimmedMean(updates.map((u) => u.delta), this.beta));
  }
}
