/**
 * FedAdam (Reddi et al., "Adaptive Federated Optimization", ICLR 2021): FedOpt with Adam's second
 * moment, v ← β₂·v + (1 − β₂)·g².
 *
 * Defaults: η = 10⁻², β₁ = 0.9, β₂ = 0.99, τ = 10⁻³ (Reddi et al. fix β₁, β₂ and τ to these and
 * tune η on a grid of powers of 10; 10⁻² is the centre of the range that works for their tasks).
 *
 * @example
 * const strategy = new FedAdam({ serverLr: 0.01 });
 */
import { FedOpt, type FedOptOptions } from './fedopt.js';
import { STRATEGY_DEFAULTS } from './strategy-defaults.js';
import { adamSecondMoment } from './server-optimizers.js';

export class FedAdam extends FedOpt {
  override readonly name: string = 'fedadam';

  constructor(options: FedOptOptions = {}) {
    super(options, STRATEGY_DEFAULTS.fedadam);
  }

  protected updateSecondMoment(v: Float32Array, g: Float32Array): void {
    adamSecondMoment(v, g, this.beta2);
  }
}
