/**
 * Builds a Strategy from a run file's `strategy` block (see strategy-spec.ts for the names,
 * hyperparameters and defaults).
 *
 * @example
 * const strategy = createStrategy({ name: 'fedyogi', serverLr: 0.01 });
 * assertCompatibleWithSecureAggregation(strategy, config.secureAggregation !== false);
 */
import { FedAdagrad } from './fedadagrad.js';
import { FedAdam } from './fedadam.js';
import { FedAvg } from './fedavg.js';
import { FedAvgM } from './fedavgm.js';
import { FedMedian } from './fedmedian.js';
import { FedProx } from './fedprox.js';
import { FedTrimmedAvg } from './fedtrimmedavg.js';
import { FedYogi } from './fedyogi.js';
import { Krum } from './krum.js';
import type { Strategy } from './strategy.js';
import { parseStrategySpec, type StrategySpecInput } from './strategy-spec.js';

/** Validates `spec` (throws E_CONFIG_INVALID naming the bad field) and builds the strategy. */
export function createStrategy(spec: StrategySpecInput): Strategy {
  const s = parseStrategySpec(spec);
  switch (s.name) {
    case 'fedavg':
      return new FedAvg();
    case 'fedavgm':
      return new FedAvgM(s);
    case 'fedprox':
      return new FedProx(s);
    case 'fedadam':
      return new FedAdam(s);
    case 'fedyogi':
      return new FedYogi(s);
    case 'fedadagrad':
      return new FedAdagrad(s);
    case 'fedmedian':
      return new FedMedian();
    case 'fedtrimmedavg':
      return new FedTrimmedAvg(s);
    case 'krum':
      return new Krum(s);
  }
}
