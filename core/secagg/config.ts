/**
 * SecAgg+ parameters, their defaults, and the checks that refuse unsafe or impossible ones.
 *
 * All arithmetic is mod 2^32 (core/secagg/quantize.ts): the sum of every contributor's quantized,
 * weighted vector must fit in a signed 32-bit word, or the aggregate silently wraps. That is the
 * `bits` check below.
 *
 * @example
 * const config = defaultSecAggConfig(participants.length);   // k ≈ 4·log2 n, t = majority
 * validateSecAggConfig(config, { maxWorkers: participants.length, maxWeight: 1 });
 */
import { CohortError } from '../protocol/errors.js';
import { SECAGG_LIMITS } from '../protocol/secagg.js';

export interface SecAggConfig {
  /**
   * k: how many neighbours each worker shares masks and secrets with. Bell et al. (CCS 2020) show
   * that k = O(log n) neighbours on a random graph keep both privacy and dropout-robustness with
   * high probability; the default is 4·⌈log2 n⌉. Rounded up to even (a Harary graph is k-regular
   * for even k) and capped at n − 1, where the graph is complete (plain SecAgg, Bonawitz et al.).
   */
  neighbours: number;
  /**
   * t: Shamir threshold. Each worker's secrets are split among k + 1 holders (its neighbours and
   * itself, as in Bonawitz et al., where a user also keeps a share); any t reconstruct. It must be
   * a strict majority of the k + 1 holders: then no two disjoint groups of t holders exist, so a
   * coordinator that lies about who dropped cannot collect t self-mask shares AND t key shares of
   * the same worker (Bonawitz et al. §4, "t > n/2" for the active setting). Default: ⌊(k+1)/2⌋ + 1.
   * It is also the round's minimum: a stage that ends with fewer than t workers fails the round.
   */
  threshold: number;
  /**
   * Each coordinate of a worker's update is clipped to [−clipRange, clipRange] before quantizing.
   * Default 1: a round's change to one weight rarely exceeds 1 under standard initialisations, and
   * clipping also bounds one worker's influence on the sum.
   */
  clipRange: number;
  /**
   * Fixed-point precision: a weighted coordinate in [−clipRange, clipRange] maps to one of
   * 2^bits − 1 integer levels. Default 16: a quantum of clipRange/32767 (3·10⁻⁵ for clipRange 1),
   * and room for 65,536 workers of weight ≤ 1 in 32 bits.
   */
  bits: number;
  /**
   * Contribution scoring (core/secagg/scoring-groups.ts): once the masked inputs are fixed, the
   * contributors are split into disjoint groups of at least `minGroupSize` members, and unmasking
   * also yields each group's Σ w·x and Σ w. Absent: only the total, exactly as without it.
   */
  groupScoring?: { minGroupSize: number };
}

export const DEFAULT_CLIP_RANGE = 1;
export const DEFAULT_BITS = 16;

/** 4·⌈log2 n⌉ (Bell et al.: O(log n)), at least 8, at most SECAGG_LIMITS.maxNeighbours. */
export function suggestedNeighbours(workers: number): number {
  const k = 4 * Math.ceil(Math.log2(Math.max(2, workers)));
  return Math.min(SECAGG_LIMITS.maxNeighbours, Math.max(8, k));
}

/**
 * The degree actually used with n workers: k rounded up to even, capped at n − 1 (complete graph).
 * Both sides compute it, so the worker never trusts the coordinator for it.
 */
export function effectiveNeighbours(neighbours: number, workers: number): number {
  const even = neighbours % 2 === 0 ? neighbours : neighbours + 1;
  return Math.min(even, workers - 1);
}

/** Smallest strict majority of the k + 1 share holders. */
export function majorityThreshold(effectiveK: number): number {
  return Math.floor((effectiveK + 1) / 2) + 1;
}

/** The defaults for a round of `workers` participants; `overrides` win. */
export function defaultSecAggConfig(workers: number, overrides: Partial<SecAggConfig> = {}): SecAggConfig {
  const neighbours = overrides.neighbours ?? suggestedNeighbours(workers);
  return {
    neighbours,
    threshold: overrides.threshold ?? majorityThreshold(effectiveNeighbours(neighbours, workers)),
    clipRange: overrides.clipRange ?? DEFAULT_CLIP_RANGE,
    bits: overrides.bits ?? DEFAULT_BITS,
    ...(overrides.groupScoring ? { groupScoring: overrides.groupScoring } : {}),
  };
}

export interface SecAggBounds {
  /** Workers in the round (n). Checks use the degree the graph will really have with n workers. */
  maxWorkers: number;
  /** Largest weight a worker may apply (1 for examples ÷ the per-worker cap). */
  maxWeight: number;
}

function refuse(sentence: string): never {
  throw new CohortError('E_SECAGG_CONFIG', sentence);
}

/**
 * Refuses (CohortError E_SECAGG_CONFIG, one sentence naming the fields) a config that is unsafe or
 * cannot work: a sum that can overflow 32 bits, a threshold above the neighbour count or not a
 * strict majority, too few workers, or values out of range.
 */
export function validateSecAggConfig(cfg: SecAggConfig, bounds: SecAggBounds): void {
  const { maxWorkers, maxWeight } = bounds;
  if (!Number.isInteger(maxWorkers) || maxWorkers < 3) {
    refuse(`secure aggregation needs at least 3 workers (maxWorkers is ${maxWorkers}); with 2 each would learn the other's update`);
  }
  if (maxWorkers > SECAGG_LIMITS.maxParticipants) {
    refuse(`maxWorkers ${maxWorkers} exceeds the limit of ${SECAGG_LIMITS.maxParticipants} workers per round`);
  }
  if (!Number.isFinite(maxWeight) || maxWeight <= 0) refuse(`maxWeight must be a positive number, got ${maxWeight}`);
  if (!Number.isInteger(cfg.bits) || cfg.bits < 2 || cfg.bits > 31) refuse(`bits must be an integer from 2 to 31, got ${cfg.bits}`);
  if (!Number.isFinite(cfg.clipRange) || cfg.clipRange <= 0) refuse(`clipRange must be a positive number, got ${cfg.clipRange}`);
  if (!Number.isInteger(cfg.neighbours) || cfg.neighbours < 2 || cfg.neighbours > SECAGG_LIMITS.maxNeighbours) {
    refuse(`neighbours must be an integer from 2 to ${SECAGG_LIMITS.maxNeighbours}, got ${cfg.neighbours}`);
  }
  if (!Number.isInteger(cfg.threshold) || cfg.threshold < 2) refuse(`threshold must be an integer of at least 2, got ${cfg.threshold}`);
  // A scoring group's sum is revealed like a round's total, so it has the round's privacy floor:
  // with 2 members each would learn the other's update from the group sum (the 3-worker check above).
  const minGroupSize = cfg.groupScoring?.minGroupSize;
  if (cfg.groupScoring && (!Number.isInteger(minGroupSize) || minGroupSize! < 3 || minGroupSize! > SECAGG_LIMITS.maxParticipants)) {
    refuse(`groupScoring.minGroupSize must be an integer from 3 (the privacy floor of a revealed sum) to ${SECAGG_LIMITS.maxParticipants}, got ${minGroupSize}`);
  }
  const k = effectiveNeighbours(cfg.neighbours, maxWorkers);
  if (cfg.threshold > k) {
    refuse(
      `threshold ${cfg.threshold} exceeds the ${k} neighbours each worker has with ${maxWorkers} workers ` +
        `(neighbours ${cfg.neighbours}); no worker could tolerate a single dropout`,
    );
  }
  if (2 * cfg.threshold <= k + 1) {
    refuse(
      `threshold ${cfg.threshold} is not a strict majority of the ${k + 1} share holders (${k} neighbours and the worker); ` +
        `use at least ${majorityThreshold(k)} so a lying coordinator cannot reconstruct both masks of one worker`,
    );
  }
  // Each worker contributes at most maxWeight·(2^(bits−1) − 1) in absolute value per coordinate, so
  // n of them fit a signed 32-bit word iff bits − 1 + log2(n·maxWeight) ≤ 31.
  const headroom = Math.max(0, Math.ceil(Math.log2(maxWorkers * maxWeight)));
  if (cfg.bits + headroom > 32) {
    refuse(
      `bits ${cfg.bits} + ⌈log2(maxWorkers ${maxWorkers} × maxWeight ${maxWeight})⌉ = ${cfg.bits + headroom} exceeds 32: ` +
        `the sum would overflow the 2^32 modulus; use bits ≤ ${32 - headroom} or fewer workers`,
    );
  }
  // Stochastic rounding may round a weight·S that is not an integer up by one level: check exactly too.
  const perWorker = Math.ceil(maxWeight * (2 ** (cfg.bits - 1) - 1));
  if (maxWorkers * perWorker > 2 ** 31 - 1) {
    refuse(`maxWorkers ${maxWorkers} × ${perWorker} levels per worker exceeds 2^31 − 1: the sum would overflow; lower bits`);
  }
}
