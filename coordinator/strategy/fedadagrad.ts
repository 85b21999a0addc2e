/**
 * FedAdagrad (Reddi et al., "Adaptive Federated Optimization", ICLR 2021): FedOpt with Adagrad's
 * second moment, v ← v + g² (β₂ is unused).
 *
 * Defaults: η = 10⁻¹, τ = 10⁻³, β₁ = 0 (plain Adagrad, no momentum, as Flower's FedAdagrad; set
 * β₁ = 0.9 for Reddi et al.'s momentum variant). Adagrad's v only grows, so it tolerates a larger
 * η than FedAdam.
 *
 * @example
 * const strategy = new FedAdagrad({ serverLr: 0.1 });
 */
import { FedOpt, type FedOptOptions } from './fedopt.js';
import { STRATEGY_DEFAULTS } from './strategy-defaults.js';
import { adagradSecondMoment } from './server-optimizers.js';

export class FedAdagrad extends FedOpt {
  override readonly name: string = 'fedadagrad';

  constructor(options: FedOptOptions = {}) {
    super(options, { ...STRATEGY_DEFAULTS.fedadagrad, beta2: 0 });
  }

  protected updateSecondMoment(v: Float32Array, g: Float32Array): void {
    adagradSecondMoment(v, g);
  }
}
