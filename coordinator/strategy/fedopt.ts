/**
 * FedOpt: the server-optimizer base shared by FedAdam, FedYogi and FedAdagrad (Reddi et al.,
 * "Adaptive Federated Optimization", ICLR 2021, Algorithm 2). Clients train as in FedAvg; the
 * server treats the round's pseudo-gradient g = −(weighted mean delta) as a gradient and takes one
 * adaptive step:
 *
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← (variant-specific update of v from g²)
 *   x ← x − η·m / (√v + τ)
 *
 * Reddi et al. write the same thing with Δ = −g and x ← x + η·m/(√v + τ); see server-optimizers.ts
 * for why the two agree. As in their Algorithm 2 (and unlike Flower, which starts v at 0 and
 * bias-corrects FedAdam's step), m starts at 0 and v at τ², and there is no bias correction.
 *
 * Subclasses only say how v moves. The state (m, v) is kept between rounds and can be
 * checkpointed with state()/restore().
 */
import { adaptiveDescend, firstMomentStep, pseudoGradient } from './server-optimizers.js';
import { FedAvg } from './fedavg.js';
import { assertStateFits, readState } from './strategy-state.js';
import type { RoundAggregate, StrategyState } from './strategy.js';

export interface FedOptOptions {
  /** η, the server learning rate. */
  serverLr?: number;
  /** β₁, the first-moment decay. */
  beta1?: number;
  /** β₂, the second-moment decay (unused by FedAdagrad). */
  beta2?: number;
  /** τ, the adaptivity: bounds the step where v is small (Reddi et al. use 10⁻³). */
  tau?: number;
}

export interface FedOptHyperparameters {
  serverLr: number;
  beta1: number;
  beta2: number;
  tau: number;
}

export abstract class FedOpt extends FedAvg {
  readonly serverLr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
  private m: Float32Array | undefined;
  private v: Float32Array | undefined;

  protected constructor(options: FedOptOptions, defaults: FedOptHyperparameters) {
    super();
    this.serverLr = options.serverLr ?? defaults.serverLr;
    this.beta1 = options.beta1 ?? defaults.beta1;
    this.beta2 = options.beta2 ?? defaults.beta2;
    this.tau = options.tau ?? defaults.tau;
    if (!(this.serverLr > 0)) throw new RangeError(`server learning rate η must be > 0, got ${this.serverLr}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1)) throw new RangeError(`β₁ must be in [0, 1), got ${this.beta1}`);
    if (!(this.beta2 >= 0 && this.beta2 < 1)) throw new RangeError(`β₂ must be in [0, 1), got ${this.beta2}`);
    if (!(this.tau > 0)) throw new RangeError(`τ must be > 0, got ${this.tau}`);
  }

  /** The variant's second-moment rule: update v from g, in place. */
  protected abstract updateSecondMoment(v: Float32Array, g: Float32Array): void;

  override aggregate(_round: number, global: Float32Array, result: RoundAggregate): Float32Array {
    if (result.totalWeight <= 0) return global.slice();
    const g = pseudoGradient(result.weightedDeltaSum, result.totalWeight);
    if (this.m === undefined || this.v === undefined) {
      this.m = new Float32Array(global.length);
      this.v = new Float32Array(global.length).fill(this.tau * this.tau);
    }
    assertStateFits(this.name, this.m.length, global.length);
    firstMomentStep(this.m, g, this.beta1);
    this.updateSecondMoment(this.v, g);
    return adaptiveDescend(global, this.m, this.v, this.serverLr, this.tau);
  }

  state(): StrategyState {
    return this.m === undefined || this.v === undefined ? {} : { m: this.m.slice(), v: this.v.slice() };
  }

  restore(state: StrategyState): void {
    if (Object.keys(state).length === 0) {
      this.m = undefined;
      this.v = undefined;
      return;
    }
    [this.m, this.v] = readState(this.name, state, ['m', 'v']);
  }
}
