/**
 * The run settings of asynchronous buffered aggregation (FedBuff, Nguyen et al. 2022; the loop is
 * async-runner.ts), and the combinations it refuses. In `mode: "async"` free workers are formed
 * into groups as they come free, each group trains on the current model version, and a group's
 * sum is applied as soon as `bufferSize` of its members are in: one applied buffer is one model
 * version. An update that started `s` versions ago counts 1/√(1 + s); one more than
 * `maxStaleness` versions old is refused.
 */
import { defaultSecAggConfig } from '../../core/secagg/config.js';
import { selectionSize } from './over-selection.js';

/** Versions an update may lag behind the model it is applied to, by default. */
export const MAX_STALENESS_DEFAULT = 10;

/**
 * Strategies whose aggregate of a stale sum is still that sum's average delta. Server optimizers
 * (FedAvgM, FedAdam, FedAdagrad, FedYogi) keep state across rounds that concurrent groups would
 * interleave, and robust aggregators (median, trimmed mean, Krum) need individual updates,
 * which a secure group never shows.
 */
export const ASYNC_STRATEGIES: readonly string[] = ['fedavg', 'fedprox'];

/** FedBuff's staleness weight: 1/√(1 + s) for an update that started s versions ago. */
export function stalenessWeight(staleness: number): number {
  return 1 / Math.sqrt(1 + Math.max(0, staleness));
}

interface AsyncCheckInput {
  mode: 'sync' | 'async';
  bufferSize?: number | undefined;
  overSelect: number;
  secureAggregation: false | { threshold?: number | undefined; neighbours?: number | undefined };
  strategy: { name: string };
  quality?: unknown;
  privacy?: { samplingRate?: number | undefined } | undefined;
  evaluation: string;
}

/** The first async setting that cannot work, as [field, message]; undefined when all can. */
export function asyncConfigIssue(c: AsyncCheckInput): [string, string] | undefined {
  // A sync run ignores the async settings, so one file runs in either mode (`--mode` overrides it).
  if (c.mode === 'sync') return undefined;
  if (c.bufferSize === undefined) return ['bufferSize', 'mode "async" needs bufferSize: the number of updates applied together as one model version'];
  if (c.secureAggregation !== false) {
    const members = selectionSize({ clientsPerRound: c.bufferSize, overSelect: c.overSelect }) ?? c.bufferSize;
    const threshold = defaultSecAggConfig(members, { threshold: c.secureAggregation.threshold, neighbours: c.secureAggregation.neighbours }).threshold;
    if (c.bufferSize < Math.max(3, threshold)) {
      return ['bufferSize', `bufferSize ${c.bufferSize} is below what a secure group of ${members} can unmask (SecAgg+ threshold ${Math.max(3, threshold)}): a group closes at bufferSize masked inputs`];
    }
  }
  if (!ASYNC_STRATEGIES.includes(c.strategy.name)) {
    return ['strategy', `strategy "${c.strategy.name}" cannot take stale, staleness-weighted group sums; mode "async" takes ${ASYNC_STRATEGIES.join(' or ')}`];
  }
  if (c.quality !== undefined) return ['quality', 'contribution scoring is not built for mode "async" (its groups are scored against one round\'s total)'];
  if (c.privacy?.samplingRate !== undefined) {
    // A group is whoever is free (which depends on device speed), not a uniform sample: q = 1.
    return ['privacy.samplingRate', 'mode "async" accounts every group at sampling rate 1 (a group is whoever is free, not a random sample, so no amplification by sampling can be claimed); remove privacy.samplingRate'];
  }
  if (c.evaluation === 'federated') return ['evaluation', 'federated evaluation is not built for mode "async": it would ask workers that are training to evaluate'];
  return undefined;
}
