/**
 * FedAvgM (Hsu, Qi and Brown, "Measuring the Effects of Non-Identical Data Distribution for
 * Federated Visual Classification", 2019): FedAvg whose server applies heavy-ball momentum to the
 * round's pseudo-gradient g = −(weighted mean delta):
 *
 *   v ← β·v + g,   x ← x − η·v.
 *
 * With β = 0 and η = 1 it is exactly FedAvg. The effective server step is η/(1 − β) (Hsu et al.
 * §4.2): the defaults, η = 1 and β = 0.9, take up to 10× FedAvg's step once momentum builds up;
 * use η = 1 − β to keep FedAvg's effective step. Clients train as in FedAvg.
 *
 * @example
 * const strategy = new FedAvgM({ serverLr: 0.1, momentum: 0.9 });
 */
import { descend, momentumStep, pseudoGradient } from './server-optimizers.js';
import { FedAvg } from './fedavg.js';
import { STRATEGY_DEFAULTS } from './strategy-defaults.js';
import { assertStateFits, readState } from './strategy-state.js';
import type { RoundAggregate, StrategyState } from './strategy.js';

export interface FedAvgMOptions {
  /** η, the server learning rate. Default 1. */
  serverLr?: number;
  /** β, the server momentum. Default 0.9. */
  momentum?: number;
}

export class FedAvgM extends FedAvg {
  override readonly name: string = 'fedavgm';
  readonly serverLr: number;
  readonly momentum: number;
  private velocity: Float32Array | undefined;

  constructor(options: FedAvgMOptions = {}) {
    super();
    this.serverLr = options.serverLr ?? STRATEGY_DEFAULTS.fedavgm.serverLr;
    this.momentum = options.momentum ?? STRATEGY_DEFAULTS.fedavgm.momentum;
    if (!(this.serverLr > 0)) throw new RangeError(`FedAvgM server learning rate η must be > 0, got ${this.serverLr}`);
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new RangeError(`FedAvgM momentum β must be in [0, 1), got ${this.momentum}`);
  }

  override aggregate(_round: number, global: Float32Array, result: RoundAggregate): Float32Array {
    if (result.totalWeight <= 0) return global.slice();
    const g = pseudoGradient(result.weightedDeltaSum, result.totalWeight);
    if (this.velocity === undefined) this.velocity = new Float32Array(global.length);
    assertStateFits(this.name, this.velocity.length, global.length);
    momentumStep(this.velocity, g, this.momentum);
    return descend(global, this.velocity, this.serverLr);
  }

  state(): StrategyState {
    return this.velocity === undefined ? {} : { velocity: this.velocity.slice() };
  }

  restore(state: StrategyState): void {
    if (Object.keys(state).length === 0) {
      this.velocity = undefined;
      return;
    }
    [this.velocity] = readState(this.name, state, ['velocity']);
  }
}
