/**
 * The start-of-run check that a strategy can work with what the coordinator will see: under
 * secure aggregation that is only the weighted sum of the updates, which FedMedian, FedTrimmedAvg
 * and Krum cannot use (DESIGN.md, "Strategy").
 *
 * @example
 * assertCompatibleWithSecureAggregation(createStrategy({ name: 'krum' }), true);
 * // CohortError E_STRATEGY_NEEDS_UPDATES: strategy "krum" needs each worker's individual update, …
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { Strategy } from './strategy.js';

/** Strategies that aggregate from the sum alone, for the error message. */
const SUM_STRATEGIES = 'fedavg, fedavgm, fedprox, fedadam, fedyogi or fedadagrad';

export function assertCompatibleWithSecureAggregation(strategy: Strategy, secure: boolean): void {
  if (!secure || !strategy.needsIndividualUpdates) return;
  throw new CohortError(
    'E_STRATEGY_NEEDS_UPDATES',
    `strategy "${strategy.name}" needs each worker's individual update, but secure aggregation reveals only their sum: ` +
      `turn secure aggregation off (secureAggregation: false) or choose a strategy that works on the sum (${SUM_STRATEGIES})`,
  );
}
