/**
 * Step `observe-speed`: after the collection, each survivor's measured round (steps done ÷ seconds
 * from `train` sent to its result received) updates its speed estimate (worker-stats.ts); each
 * straggler the round cut had not finished its assigned steps by the time the last survivor's
 * result arrived, which bounds its speed from above. The estimates size the next rounds' work
 * under targetRoundSeconds, and the dashboard and /metrics show them.
 *
 * Train instructions go out at the start of `collect`, which follows `select` and `configure`
 * without waiting, so the round's start time is when they were sent.
 */
import { countedSteps } from '../fednova.js';
import { need, type RoundStep } from '../round-state.js';
import { stepsAllowed } from '../round-work.js';
import { observeSpeed, observeTooSlow } from '../worker-stats.js';

export const observeSpeedStep: RoundStep = {
  name: 'observe-speed',
  run(state, ctx) {
    const plan = need(state.plan, 'plan', 'observe-speed');
    const outcome = need(state.outcome, 'outcome', 'observe-speed');
    const assigned = new Map(plan.assignments.map(({ worker, config }) => [worker.channel.address, config.maxLocalSteps ?? stepsAllowed(config, worker.examples)]));
    let lastResult = state.startedAt;
    for (const survivor of outcome.survivors) {
      const stats = ctx.stats.get(survivor.address);
      const at = stats?.lastResultAt;
      if (!stats || at === undefined || at < state.startedAt) continue;
      lastResult = Math.max(lastResult, at);
      observeSpeed(stats, countedSteps(survivor.steps, assigned.get(survivor.address)), (at - state.startedAt) / 1000);
    }
    for (const address of outcome.cut ?? []) {
      const stats = ctx.stats.get(address);
      const steps = assigned.get(address);
      if (stats && steps !== undefined) observeTooSlow(stats, steps, (lastResult - state.startedAt) / 1000);
    }
    return undefined;
  },
};
