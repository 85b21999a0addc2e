/**
 * Step `evaluate`: the candidate model's accuracy and loss, on the coordinator's held-out set
 * where it has one, else on the workers' own held-out shares (federated), else nothing.
 */
import { need, type RoundStep } from '../round-state.js';

export const evaluate: RoundStep = {
  name: 'evaluate',
  async run(state, ctx) {
    state.metrics = await ctx.evaluate(state.round, need(state.next, 'next', 'evaluate'));
    return undefined;
  },
};
