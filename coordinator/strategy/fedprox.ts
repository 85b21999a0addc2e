/**
 * FedProx (Li et al., "Federated Optimization in Heterogeneous Networks", MLSys 2020): FedAvg plus
 * one hook. Each client minimises its loss plus the proximal term (μ/2)·‖w − w_global‖², which
 * keeps heterogeneous clients from drifting far from the global model. The term lives on the
 * client (core/train/step.ts adds it when `proximalMu` > 0); the server aggregates as FedAvg.
 *
 * Li et al. tune μ over {0.001, 0.01, 0.1, 1}; the default here is 0.01.
 *
 * @example
 * const strategy = new FedProx({ mu: 0.1 });
 * strategy.localTraining(3, base).proximalMu; // 0.1
 */
import type { TrainConfig } from '../../core/protocol/messages.js';
import { FedAvg } from './fedavg.js';
import { STRATEGY_DEFAULTS } from './strategy-defaults.js';

export interface FedProxOptions {
  /** μ, the proximal coefficient. Default 0.01. */
  mu?: number;
}

export class FedProx extends FedAvg {
  override readonly name: string = 'fedprox';
  readonly mu: number;

  constructor(options: FedProxOptions = {}) {
    super();
    this.mu = options.mu ?? STRATEGY_DEFAULTS.fedprox.mu;
    if (!(this.mu >= 0) || !Number.isFinite(this.mu)) throw new RangeError(`FedProx μ must be a finite number ≥ 0, got ${this.mu}`);
  }

  override localTraining(_round: number, base: TrainConfig): TrainConfig {
    return { ...base, proximalMu: this.mu };
  }
}
