/**
 * FedAvg (McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized
 * Data", AISTATS 2017): the new model is the example-weighted mean of the workers' models, i.e.
 * global + Σ nᵢ·deltaᵢ / Σ nᵢ. Workers run `localEpochs` of minibatch training each round.
 */
import type { TrainConfig } from '../../core/protocol/messages.js';
import { applyDelta } from './vector-math.js';
import { sameForEveryWorker, type RoundAggregate, type RoundCandidate, type Strategy, type WorkerInstruction } from './strategy.js';

export class FedAvg implements Strategy {
  readonly name: string = 'fedavg';
  readonly needsIndividualUpdates: boolean = false;

  /** Every selected worker trains with the same instructions, from `localTraining`. */
  configureRound(round: number, candidates: readonly RoundCandidate[], base: TrainConfig): WorkerInstruction[] {
    return sameForEveryWorker(candidates, this.localTraining(round, base));
  }

  /** The hook FedAvg's variants override to change local training (FedProx adds its μ). */
  localTraining(_round: number, base: TrainConfig): TrainConfig {
    return base;
  }

  aggregate(_round: number, global: Float32Array, result: RoundAggregate): Float32Array {
    if (result.totalWeight <= 0) return global.slice();
    return applyDelta(global, result.weightedDeltaSum, 1 / result.totalWeight);
  }
}
