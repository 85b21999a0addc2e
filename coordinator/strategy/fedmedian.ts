/**
 * FedMedian (Yin et al., "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
 * Rates", ICML 2018): the new model is the coordinate-wise median of the workers' models, i.e.
 * global + median(deltas). Unweighted, as in the paper and Flower: one worker, one vote, so a
 * worker cannot buy influence by claiming many examples. A minority of arbitrary (Byzantine)
 * updates cannot move the median beyond the range of the honest values.
 *
 * It needs every worker's individual update, so it cannot run under secure aggregation.
 *
 * @example
 * const strategy = new FedMedian();   // needsIndividualUpdates === true
 */
import type { TrainConfig } from '../../core/protocol/messages.js';
import { requireIndividualUpdates } from './individual-updates.js';
import { coordinateMedian } from './robust-aggregation.js';
import { sameForEveryWorker, type RoundAggregate, type RoundCandidate, type Strategy, type WorkerInstruction } from './strategy.js';
import { applyDelta } from './vector-math.js';

export class FedMedian implements Strategy {
  readonly name: string = 'fedmedian';
  readonly needsIndividualUpdates: boolean = true;

  configureRound(_round: number, candidates: readonly RoundCandidate[], base: TrainConfig): WorkerInstruction[] {
    return sameForEveryWorker(candidates, base);
  }

  aggregate(_round: number, global: Float32Array, result: RoundAggregate): Float32Array {
    const updates = requireIndividualUpdates(this.name, result);
    if (updates.length === 0) return global.slice();
    return applyDelta(global, coordinateMedian(updates.map((u) => u.delta)));
  }
}
