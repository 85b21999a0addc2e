/**
 * Step `collect`: starts the collector the round's plan calls for (plain or SecAgg+, both behind
 * RoundCollector), lets the engine route workers' round messages to it, and waits for its
 * outcome. Dropouts count against their workers' stats (stragglers cut by over-selection do not);
 * too few survivors fail the round. With clientsPerRound set, the collection closes once that many
 * results are in (over-selection.ts; under SecAgg+ at least the threshold).
 */
import { type RoundCollector } from '../collector.js';
import { closeAfterResults } from '../over-selection.js';
import { need, type RoundContext, type RoundPlan, type RoundState, type RoundStep } from '../round-state.js';
import { startPlainCollect } from './collect-plain.js';
import { startSecureCollect } from './collect-secure.js';

export const collect: RoundStep = {
  name: 'collect',
  async run(state, ctx) {
    const plan = need(state.plan, 'plan', 'collect');
    const collector = startCollector(state, ctx, plan);
    ctx.setCollector(state.round, collector);
    let outcome;
    try {
      outcome = await collector.outcome;
    } finally {
      ctx.setCollector(state.round, undefined);
    }
    state.outcome = outcome;
    for (const drop of outcome.dropped) {
      const s = ctx.stats.get(drop.address);
      if (s) s.dropouts += 1;
    }
    const stopped = ctx.stopReason();
    if (stopped !== undefined) return { failure: stopped };
    if (outcome.failure !== undefined) return { failure: `secure aggregation failed: ${outcome.failure}` };
    if (outcome.survivors.length < ctx.config.minClients) {
      return { failure: `only ${outcome.survivors.length} of ${plan.assignments.length} selected workers returned an update (minClients ${ctx.config.minClients})` };
    }
    return undefined;
  },
};

function startCollector(state: RoundState, ctx: RoundContext, plan: RoundPlan): RoundCollector {
  const request = {
    runId: ctx.runId,
    round: state.round,
    global: state.global,
    assignments: plan.assignments,
    deadline: state.deadline,
    updateLength: plan.updateLength,
    closeAfter: closeAfterResults(ctx.config, plan.assignments.length, plan.secure?.secagg.threshold),
    onStage: (stage: string, seconds: number) => ctx.emit({ type: 'stage-completed', runId: ctx.runId, round: state.round, stage, seconds }),
  };
  if (plan.secure) return startSecureCollect({ ...request, secagg: plan.secure.secagg, weightCap: plan.secure.weightCap, stageTimeoutMs: plan.secure.stageTimeoutMs });
  return startPlainCollect({ ...request, keepIndividualUpdates: ctx.strategy.needsIndividualUpdates, maxWeight: plan.maxWeight, unitWeights: plan.dp !== undefined });
}
