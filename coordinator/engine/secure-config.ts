/**
 * Turns a run's `secureAggregation` settings into one round's SecAgg+ parameters. The defaults
 * depend on the round's size n (neighbours ≈ 4·⌈log2 n⌉, threshold a strict majority), so they are
 * computed per round; the overflow check is also done once at start for the largest round allowed.
 */
import { defaultSecAggConfig, validateSecAggConfig, type SecAggConfig } from '../../core/secagg/config.js';
import { selectionSize } from './over-selection.js';
import type { RunConfig } from './run-config.js';
import { maxRoundWork } from './work-bound.js';

export const DEFAULT_STAGE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_WORKERS = 10_000;

export interface RoundSecAgg {
  secagg: SecAggConfig;
  /** Examples at which a worker's weight reaches 1: from the run's configuration only. */
  weightCap: number;
  stageTimeoutMs: number;
}

/**
 * One round's SecAgg+ parameters for `participants` selected workers. The weight cap is the
 * configured `weightCap`, else the most work the run credits one worker with (maxRoundWork):
 * never what workers declare, so a worker that claims 10^15 examples cannot push every honest
 * weight to the floor.
 */
export function secureAggregationFor(config: RunConfig, participants: number): RoundSecAgg | undefined {
  const options = config.secureAggregation;
  if (options === false) return undefined;
  const { weightCap, stageTimeoutMs, maxWorkers: _maxWorkers, ...overrides } = options;
  return {
    secagg: defaultSecAggConfig(participants, withScoring(config, overrides)),
    weightCap: weightCap ?? maxRoundWork(config),
    stageTimeoutMs: stageTimeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS,
  };
}

/**
 * Refuses, before the run starts, settings whose sum could overflow 2^32 for the largest round
 * the run allows (E_SECAGG_CONFIG with the numbers in the message).
 */
export function checkSecureAggregation(config: RunConfig): void {
  const options = config.secureAggregation;
  if (options === false) return;
  // Over-selected workers all take part until the masked input: the check is for all of them.
  const maxWorkers = options.maxWorkers ?? selectionSize(config) ?? DEFAULT_MAX_WORKERS;
  const { weightCap: _w, stageTimeoutMs: _s, maxWorkers: _m, ...overrides } = options;
  validateSecAggConfig(defaultSecAggConfig(maxWorkers, withScoring(config, overrides)), { maxWorkers, maxWeight: 1 });
}

/** A quality rule turns on SecAgg+'s scoring groups, of its minGroupSize. */
function withScoring(config: RunConfig, overrides: Partial<SecAggConfig>): Partial<SecAggConfig> {
  return config.quality ? { ...overrides, groupScoring: { minGroupSize: config.quality.minGroupSize } } : overrides;
}
