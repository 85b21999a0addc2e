/**
 * Krum and Multi-Krum (Blanchard, El Mhamdi, Guerraoui and Stainer, "Machine Learning with
 * Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS 2017).
 *
 * Each update is scored by the sum of its squared distances to its n − f − 2 nearest neighbours,
 * f being the number of Byzantine workers to tolerate. Krum (keep m = 1) takes the update with the
 * lowest score; Multi-Krum takes the m lowest and averages them, weighted by examples as FedAvg
 * (Flower does the same). Blanchard et al.'s guarantee needs n > 2f + 2 updates; a round with
 * fewer is refused (E_STRATEGY_INPUT), so the engine fails it and the model stays unchanged.
 * m must not exceed n − f, or a Byzantine update could always be among those kept.
 *
 * It needs every worker's individual update, so it cannot run under secure aggregation.
 *
 * @example
 * const strategy = new Krum({ byzantine: 2, keep: 5 });   // Multi-Krum tolerating 2 attackers
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { TrainConfig } from '../../core/protocol/messages.js';
import { requireIndividualUpdates } from './individual-updates.js';
import { krumScores, krumSelect } from './robust-aggregation.js';
import { STRATEGY_DEFAULTS } from './strategy-defaults.js';
import { sameForEveryWorker, type RoundAggregate, type RoundCandidate, type Strategy, type WorkerInstruction } from './strategy.js';
import { addScaledInto, applyDelta } from './vector-math.js';

export interface KrumOptions {
  /** f, the number of Byzantine workers to tolerate. Default 0. */
  byzantine?: number;
  /** m, how many of the best-scored updates to average (1 = Krum, > 1 = Multi-Krum). Default 1. */
  keep?: number;
}

export class Krum implements Strategy {
  readonly name: string = 'krum';
  readonly needsIndividualUpdates: boolean = true;
  readonly byzantine: number;
  readonly keep: number;

  constructor(options: KrumOptions = {}) {
    this.byzantine = options.byzantine ?? STRATEGY_DEFAULTS.krum.byzantine;
    this.keep = options.keep ?? STRATEGY_DEFAULTS.krum.keep;
    if (!Number.isInteger(this.byzantine) || this.byzantine < 0) throw new RangeError(`Krum f must be an integer ≥ 0, got ${this.byzantine}`);
    if (!Number.isInteger(this.keep) || this.keep < 1) throw new RangeError(`Krum m must be an integer ≥ 1, got ${this.keep}`);
  }

  /** The fewest updates a round needs: n > 2f + 2 and n − f ≥ m. */
  minUpdates(): number {
    return Math.max(2 * this.byzantine + 3, this.byzantine + this.keep);
  }

  configureRound(_round: number, candidates: readonly RoundCandidate[], base: TrainConfig): WorkerInstruction[] {
    return sameForEveryWorker(candidates, base);
  }

  aggregate(_round: number, global: Float32Array, result: RoundAggregate): Float32Array {
    const updates = requireIndividualUpdates(this.name, result);
    if (updates.length === 0) return global.slice();
    const n = updates.length;
    if (n < this.minUpdates()) {
      throw new CohortError(
        'E_STRATEGY_INPUT',
        `krum with f = ${this.byzantine} and m = ${this.keep} needs at least ${this.minUpdates()} updates (n > 2f + 2 and n − f ≥ m); this round has ${n}`,
      );
    }
    const chosen = krumSelect(krumScores(updates.map((u) => u.delta), this.byzantine), this.keep);
    const sum = new Float32Array(global.length);
    let total = 0;
    for (const i of chosen) {
      addScaledInto(sum, updates[i]!.delta, updates[i]!.weight);
      total += updates[i]!.weight;
    }
    if (total > 0) return applyDelta(global, sum, 1 / total);
    // All chosen weights are 0: fall back to the plain mean of the chosen updates.
    sum.fill(0);
    for (const i of chosen) addScaledInto(sum, updates[i]!.delta, 1);
    return applyDelta(global, sum, 1 / chosen.length);
  }
}
