/**
 * Step `select`: the round's candidates, a seeded sample of the ready workers (selection.ts), so
 * that the same seed, round, attempt and pool always select the same workers. Each retry of a
 * round draws a different sample. With over-selection it draws ⌈clientsPerRound × overSelect⌉
 * (over-selection.ts), bounded by the ready workers.
 */
import type { RoundStep } from '../round-state.js';
import { selectionSize } from '../over-selection.js';
import { selectWorkers } from '../selection.js';

export const select: RoundStep = {
  name: 'select',
  run(state, ctx) {
    state.selected = selectWorkers(ctx.readyWorkers(), selectionSize(ctx.config), ctx.config.seed + state.attempt * 7_919, state.round);
    ctx.emit({ type: 'round-started', runId: ctx.runId, round: state.round, attempt: state.attempt, selected: state.selected.map((w) => w.channel.address), deadline: state.deadline });
    return undefined;
  },
};
