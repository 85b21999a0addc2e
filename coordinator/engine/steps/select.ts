/**
 * Step `select`: the round's candidates, a seeded sample of the ready workers (selection.ts), so
 * that the same seed, round, attempt and pool always select the same workers. Each retry of a
 * round draws a different sample. With over-selection it draws ⌈clientsPerRound × overSelect⌉
 * (over-selection.ts), bounded by the ready workers. Under a quality rule with excludeFlagged,
 * workers the estimator confidently finds harmful are left out of the pool.
 */
import { excludedWorkers } from '../../contribution/quality-rule.js';
import type { RoundContext, RoundStep } from '../round-state.js';
import { selectionSize } from '../over-selection.js';
import { selectWorkers } from '../selection.js';

export const select: RoundStep = {
  name: 'select',
  run(state, ctx) {
    state.selected = selectWorkers(eligible(ctx), selectionSize(ctx.config), ctx.config.seed + state.attempt * 7_919, state.round);
    ctx.emit({ type: 'round-started', runId: ctx.runId, round: state.round, attempt: state.attempt, selected: state.selected.map((w) => w.channel.address), deadline: state.deadline });
    return undefined;
  },
};

/** The ready workers a round may select: all of them, less the flagged ones when the rule says so. */
function eligible(ctx: RoundContext): ReturnType<RoundContext['readyWorkers']> {
  const ready = ctx.readyWorkers();
  if (!ctx.quality) return ready;
  const excluded = excludedWorkers(
    ready.map((w) => w.channel.address),
    ctx.quality.estimator,
    ctx.quality.rule,
  );
  // Never below minClients: a round that cannot fill would fail the run, and a flagged worker
  // selected anyway is still credited nothing (its factor is 0).
  if (excluded.size === 0 || ready.length - excluded.size < ctx.config.minClients) return ready;
  return ready.filter((w) => !excluded.has(w.channel.address));
}
