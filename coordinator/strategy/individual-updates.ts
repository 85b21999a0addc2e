/**
 * The individual updates a robust strategy needs, or a clear error when the round only carries
 * their sum (secure aggregation, or an engine that did not pass them).
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { IndividualUpdate, RoundAggregate } from './strategy.js';

export function requireIndividualUpdates(strategy: string, result: RoundAggregate): ReadonlyArray<IndividualUpdate> {
  const updates = result.individualUpdates;
  if (updates === undefined) {
    throw new CohortError(
      'E_STRATEGY_NEEDS_UPDATES',
      `strategy "${strategy}" needs each worker's update, but this round only carries their sum (secure aggregation hides the individual updates)`,
    );
  }
  return updates;
}
