/**
 * Step `aggregate`: differential privacy's central noise and clip update on the sum, FedNova's
 * τ_eff for rounds whose workers were given their own steps (fednova.ts), then the strategy's new
 * global model. The strategy may keep server state (momentum, Adam moments); its state before
 * this round is kept so a round refused later (by `check`, or a failed commit) leaves the
 * strategy as if the round had never been aggregated.
 */
import { CohortError } from '../../../core/protocol/errors.js';
import type { RoundAggregate } from '../../strategy/strategy.js';
import { countedSteps, effectiveSteps, fedNovaShares, fedNovaWeight, scaleByEffectiveSteps } from '../fednova.js';
import { need, type RoundOutcome, type RoundPlan, type RoundStep } from '../round-state.js';

export const aggregate: RoundStep = {
  name: 'aggregate',
  run(state, ctx) {
    const plan = need(state.plan, 'plan', 'aggregate');
    const outcome = need(state.outcome, 'outcome', 'aggregate');
    const strategy = ctx.strategy;
    const before = strategy.state?.();
    if (before && strategy.restore) state.rollback = () => strategy.restore?.(before);
    const finished = ctx.privacy && plan.dp ? ctx.privacy.finish(outcome.aggregate, plan.dp) : undefined;
    state.aggregate = withFedNova(finished?.aggregate ?? outcome.aggregate, plan, outcome);
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

/**
 * A FedNova round's sum holds Σ pᵢ·dᵢ/τᵢ: scaled by τ_eff = Σ pᵢτᵢ / Σ pᵢ over the survivors, with
 * the pᵢ the coordinator assigned and the τᵢ they declared, capped at what each was assigned.
 */
function withFedNova(sum: RoundAggregate, plan: RoundPlan, outcome: RoundOutcome): RoundAggregate {
  const shares = fedNovaShares(plan.assignments);
  if (shares.size === 0) return sum;
  const assigned = new Map(plan.assignments.map(({ worker, config }) => [worker.channel.address, config.maxLocalSteps]));
  const contributors = outcome.survivors.map((s) => ({
    weight: fedNovaWeight(shares.get(s.address) ?? 0, plan.secure, plan.maxWeight),
    steps: countedSteps(s.steps, assigned.get(s.address)),
  }));
  return scaleByEffectiveSteps(sum, effectiveSteps(contributors));
}
