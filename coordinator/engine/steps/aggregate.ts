/**
 * Step `aggregate`: differential privacy's central noise and clip update on the sum, then the
 * strategy's new global model. The strategy may keep server state (momentum, Adam moments);
 * its state before this round is kept so a round refused later (by `check`, or a failed commit)
 * leaves the strategy as if the round had never been aggregated.
 */
import { CohortError } from '../../../core/protocol/errors.js';
import { need, type RoundStep } from '../round-state.js';

export const aggregate: RoundStep = {
  name: 'aggregate',
  run(state, ctx) {
    const plan = need(state.plan, 'plan', 'aggregate');
    const outcome = need(state.outcome, 'outcome', 'aggregate');
    const strategy = ctx.strategy;
    const before = strategy.state?.();
    if (before && strategy.restore) state.rollback = () => strategy.restore?.(before);
    const finished = ctx.privacy && plan.dp ? ctx.privacy.finish(outcome.aggregate, plan.dp) : undefined;
    state.aggregate = finished?.aggregate ?? outcome.aggregate;
    try {
      state.next = strategy.aggregate(state.round, state.global, state.aggregate);
    } catch (error) {
      // A strategy that cannot use this round's updates (e.g. Krum with too few) fails the round.
      if (error instanceof CohortError) return { failure: `${strategy.name}: ${error.message}` };
      throw error;
    }
    return undefined;
  },
};
