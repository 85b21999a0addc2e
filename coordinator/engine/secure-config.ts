/**
 * Turns a run's `secureAggregation` settings into one round's SecAgg+ parameters. The defaults
 * depend on the round's size n (neighbours ≈ 4·⌈log2 n⌉, threshold a strict majority), so they are
 * computed per round; the overflow check is also done once at start for the largest round allowed.
 */
import { defaultSecAggConfig, validateSecAggConfig, type SecAggConfig } from '../../core/secagg/config.js';
import type { RunConfig } from './run-config.js';

export const DEFAULT_STAGE_TIMEOUT_MS = 30_000;
/** MNIST's 60k training examples: a worker holding all of them, for one epoch, has weight 1. */
export const DEFAULT_WEIGHT_CAP_PER_EPOCH = 60_000;
export const DEFAULT_MAX_WORKERS = 10_000;

export interface RoundSecAgg {
  secagg: SecAggConfig;
  weightCap: number;
  stageTimeoutMs: number;
}

export function secureAggregationFor(config: RunConfig, workers: number): RoundSecAgg | undefined {
  const options = config.secureAggregation;
  if (options === false) return undefined;
  const { weightCap, stageTimeoutMs, maxWorkers: _maxWorkers, ...overrides } = options;
  return {
    secagg: defaultSecAggConfig(workers, overrides),
    weightCap: weightCap ?? defaultWeightCap(config),
    stageTimeoutMs: stageTimeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS,
  };
}

/** One round's declared work can never exceed this, so weights stay in (0, 1]. */
export function defaultWeightCap(config: RunConfig): number {
  const perEpoch = config.maxLocalSteps === undefined ? DEFAULT_WEIGHT_CAP_PER_EPOCH : Math.min(DEFAULT_WEIGHT_CAP_PER_EPOCH, config.maxLocalSteps * config.batchSize);
  return perEpoch * config.localEpochs;
}

/**
 * Refuses, before the run starts, settings whose sum could overflow 2^32 for the largest round
 * the run allows (E_SECAGG_CONFIG with the numbers in the message).
 */
export function checkSecureAggregation(config: RunConfig): void {
  const options = config.secureAggregation;
  if (options === false) return;
  const maxWorkers = options.maxWorkers ?? config.clientsPerRound ?? DEFAULT_MAX_WORKERS;
  const { weightCap: _w, stageTimeoutMs: _s, maxWorkers: _m, ...overrides } = options;
  validateSecAggConfig(defaultSecAggConfig(maxWorkers, overrides), { maxWorkers, maxWeight: 1 });
}
