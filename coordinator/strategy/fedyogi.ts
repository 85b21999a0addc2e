/**
 * FedYogi (Reddi et al., "Adaptive Federated Optimization", ICLR 2021): FedOpt with Yogi's second
 * moment, v ← v − (1 − β₂)·g²·sign(v − g²), which moves v additively towards g² and so reacts to a
 * sudden large update less violently than Adam.
 *
 * Defaults: η = 10⁻², β₁ = 0.9, β₂ = 0.99, τ = 10⁻³ (as FedAdam; see fedadam.ts).
 *
 * @example
 * const strategy = new FedYogi({ serverLr: 0.01, tau: 1e-3 });
 */
import { FedOpt, type FedOptOptions } from './fedopt.js';
import { STRATEGY_DEFAULTS } from './strategy-defaults.js';
import { yogiSecondMoment } from './server-optimizers.js';

export class FedYogi extends FedOpt {
  override readonly name: string = 'fedyogi';

  constructor(options: FedOptOptions = {}) {
    super(options, STRATEGY_DEFAULTS.fedyogi);
  }

  protected updateSecondMoment(v: Float32Array, g: Float32Array): void {
    yogiSecondMoment(v, g, this.beta2);
  }
}
