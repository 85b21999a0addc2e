/**
 * Capability-aware work (issue 10.2): under `targetRoundSeconds` each selected worker gets its own
 * maxLocalSteps, ⌊estimated steps/s × targetRoundSeconds⌋, clamped to [1, the steps its data and
 * epochs allow]. A worker whose speed is not known yet (no benchmark, no round measured) gets the
 * run's base instructions: its first round measures it.
 *
 * A speed claim can only move a worker within [1, its data's steps], and FedNova's aggregation
 * weight does not depend on the steps given (fednova.ts), so reporting a high steps/s buys a
 * worker neither more weight nor more reward than doing its whole share would.
 */
import type { TrainConfig } from '../../core/protocol/messages.js';
import type { RoundPlan } from './round-state.js';

/** The most local steps a worker's data allows: localEpochs × ⌈examples ÷ batchSize⌉, within the base cap. */
export function stepsAllowed(config: Pick<TrainConfig, 'localEpochs' | 'batchSize' | 'maxLocalSteps'>, examples: number): number {
  const byData = config.localEpochs * Math.ceil(Math.max(0, examples) / config.batchSize);
  return Math.max(1, Math.min(byData, config.maxLocalSteps ?? Number.POSITIVE_INFINITY));
}

/** Local steps that fit `targetSeconds` at `stepsPerSecond` (> 0), in [1, allowed]. */
export function stepsForTarget(targetSeconds: number, stepsPerSecond: number, allowed: number): number {
  const fit = Math.floor(stepsPerSecond * targetSeconds);
  return Math.max(1, Math.min(allowed, Number.isFinite(fit) ? fit : allowed));
}

/**
 * The most work a round credits each worker with, by address: the run's bound, and at most its
 * assigned maxLocalSteps × batchSize (so a worker given 5 steps cannot be credited for 100).
 */
export function assignedMaxWork(plan: Pick<RoundPlan, 'assignments' | 'maxWork'>): (address: string) => number {
  const bound = new Map<string, number>();
  for (const { worker, config } of plan.assignments) {
    if (config.maxLocalSteps !== undefined) bound.set(worker.channel.address, Math.min(plan.maxWork, config.maxLocalSteps * config.batchSize));
  }
  return (address) => bound.get(address) ?? plan.maxWork;
}
