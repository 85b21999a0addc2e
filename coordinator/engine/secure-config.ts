/**
 * Turns a run's `secureAggregation` settings into one round's SecAgg+ parameters. The defaults
 * depend on the round's size n (neighbours ≈ 4·⌈log2 n⌉, threshold a strict majority), so they are
 * computed per round; the overflow check is also done once at start for the largest round allowed.
 */
import { defaultSecAggConfig, validateSecAggConfig, type SecAggConfig } from '../../core/secagg/config.js';
import type { RunConfig } from './run-config.js';

export const DEFAULT_STAGE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_WORKERS = 10_000;

export interface RoundSecAgg {
  secagg: SecAggConfig;
  weightCap: number;
  stageTimeoutMs: number;
}

/**
 * `examples` are the local dataset sizes the selected workers declared when they became ready.
 * Without an explicit weightCap, the cap is the most work any of them can declare this round, so
 * the largest weight is close to 1: fixed-point precision is relative to the cap, and a cap far
 * above every worker's work would leave the weighted sum in the quantization noise.
 */
export function secureAggregationFor(config: RunConfig, examples: readonly number[]): RoundSecAgg | undefined {
  const options = config.secureAggregation;
  if (options === false) return undefined;
  const { weightCap, stageTimeoutMs, maxWorkers: _maxWorkers, ...overrides } = options;
  return {
    secagg: defaultSecAggConfig(examples.length, overrides),
    weightCap: weightCap ?? roundWeightCap(config, examples),
    stageTimeoutMs: stageTimeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS,
  };
}

/** The most examples one worker can train on this round: its data, capped by max-local-steps, × epochs. */
export function roundWeightCap(config: RunConfig, examples: readonly number[]): number {
  const stepCap = config.maxLocalSteps === undefined ? Number.POSITIVE_INFINITY : config.maxLocalSteps * config.batchSize;
  const largest = Math.max(1, ...examples.map((n) => Math.min(n, stepCap)));
  return Math.max(1, Math.round(largest * config.localEpochs));
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
