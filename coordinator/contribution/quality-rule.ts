/**
 * The run's `rewards.quality` rule: how a worker's estimated quality (quality-estimator.ts) scales
 * the work it is paid for. Declared work alone can be farmed: a worker that sends a zero update
 * and declares the cap is paid like the best. Here a round's credited weight is
 *
 *   declared work (capped) × qualityFactor(estimate, confidence)
 *
 * and the factor pays on a LOWER confidence bound, estimate − margin · se: a worker is paid for
 * what the groups it was in show, with some certainty, that it contributed. Without evidence
 * (never observed, or observed too little for the bound to clear the floor) the factor is 0, so
 * a cheater cannot farm its first rounds, or rotate keys to stay new. The price is paid by new
 * honest workers too: on the synthetic fleet (synthetic-fleet.test.ts) an honest worker was
 * first paid after 3 to 5 observed groups, and in a 20-round run where each worker is seen about
 * 4 times, two thirds of the honest workers earned nothing. The round's reward goes to whoever
 * qualifies (coordinator/ledger/rewards.ts splits it in proportion to the adjusted amounts); a
 * round where nobody does leaves its reward unallocated, for the researcher.
 *
 * Every default below is in units of the estimator's normalised scale: 1 ≈ a worker as good as
 * the median group of its rounds, 0 ≈ contributes nothing, below 0 ≈ harmful.
 */
import { z } from 'zod';
import { CohortError } from '../../core/protocol/errors.js';
import { creditedWork } from '../ledger/rewards.js';
import { describeIssue } from '../run-file/issues.js';
import type { WorkerQuality } from './quality-estimator.js';

export const QUALITY_RULE_DEFAULTS = {
  /**
   * The lower bound must exceed a quarter of a median group's worth before anything is paid, and
   * the factor reaches 1 at a full median group. A floor of 0 pays a freeloader whose bound noise
   * lifts a little (on the synthetic fleet, seeds 1–30: bad workers' share 1.15% against 0.54%);
   * ½ withholds more from everyone (54% of the budget paid against 65%), hardest on honest
   * workers with skewed (non-IID) data, whose updates help less than the median but still help.
   */
  floor: 0.25,
  /**
   * Standard errors subtracted before the floor: a bad worker clears it by luck rarely (one-sided
   * ≈ 7% under normal errors) while an honest one does after a few rounds. On the synthetic fleet
   * (test/coordinator/contribution/synthetic-fleet.test.ts, seeds 1–30), the bad workers' share
   * of the budget and the share paid at all: margin 0 (the bare estimate) 18.7% / 100%, 1 3.1% /
   * 87%, 1.5 0.54% / 65%, 2 0.04% / 43%.
   */
  margin: 1.5,
  /**
   * Groups smaller than this are not scored. Scoring a small group comes close to scoring one
   * worker, which secure aggregation exists to prevent, and in a group of 5 a single member
   * moves the group's mean by a fifth at most. 3 is the least the schema accepts: SecAgg+ needs 3
   * workers (secureAggregation.maxWorkers ≥ 3), and in a pair each member's score is the group's.
   */
  minGroupSize: 5,
  /** Flagged workers are left out of later rounds' selection: a harmful update costs accuracy, not only money. */
  excludeFlagged: true,
  /** Flagged means harmful: the model does worse with the worker than without (an estimate below 0). */
  flagBelow: 0,
  /**
   * … and confidently so: a standard error of at most ½ (confidence = 1 / (1 + se²) ≥ 0.8), so
   * excluding an honest worker by mistake takes an estimate 2 standard errors off.
   */
  flagConfidence: 0.8,
  /**
   * Held-out examples the coordinator trains its reference update on each round (where it can
   * train: reference-score.ts), about one honest worker's data in the demo (600 a client).
   */
  referenceExamples: 500,
} as const;

export const qualityRuleSchema = z
  .strictObject({
    /** Lower-bound quality below which a worker earns nothing, in [0, 1): the factor reaches 1 at 1. */
    floor: z.number().min(0).lt(1).default(QUALITY_RULE_DEFAULTS.floor),
    /** Standard errors subtracted from the estimate before it is compared with the floor. */
    margin: z.number().min(0).max(5).default(QUALITY_RULE_DEFAULTS.margin),
    /** Smallest group the coordinator scores (3 or more). */
    minGroupSize: z.number().int().min(3).max(10_000).default(QUALITY_RULE_DEFAULTS.minGroupSize),
    /** Leave flagged workers out of later rounds. */
    excludeFlagged: z.boolean().default(QUALITY_RULE_DEFAULTS.excludeFlagged),
    /** Estimate below which a confident worker is flagged as harmful (at most the floor). */
    flagBelow: z.number().min(-10).max(1).default(QUALITY_RULE_DEFAULTS.flagBelow),
    /** Confidence a flag needs, in [0.5, 1]: below ½ a flag would more likely be wrong than right. */
    flagConfidence: z.number().min(0.5).max(1).default(QUALITY_RULE_DEFAULTS.flagConfidence),
    /** Held-out examples the reference update trains on (scores only; the published scores carry its effect). */
    referenceExamples: z.number().int().min(10).max(1_000_000).default(QUALITY_RULE_DEFAULTS.referenceExamples),
  })
  .refine((rule) => rule.flagBelow <= rule.floor, {
    message: 'flagBelow must be at most floor: a worker flagged as harmful would otherwise still be paid',
    path: ['flagBelow'],
  });

export type QualityRule = z.output<typeof qualityRuleSchema>;
export type QualityRuleInput = z.input<typeof qualityRuleSchema>;

/** The rule as it sits in a run file, so an error names the whole path. */
const inRunFile = z.object({ rewards: z.object({ quality: qualityRuleSchema }) });

/** Validates a `rewards.quality` block; E_CONFIG_INVALID naming the field, e.g. `rewards.quality.floor: expected …`. */
export function parseQualityRule(input: unknown): QualityRule {
  const wrapped = { rewards: { quality: input ?? {} } };
  const parsed = inRunFile.safeParse(wrapped);
  if (parsed.success) return parsed.data.rewards.quality;
  const first = parsed.error.issues[0];
  const message = first ? describeIssue(inRunFile, wrapped, first) : 'rewards.quality: invalid';
  throw new CohortError('E_CONFIG_INVALID', message, { details: parsed.error.issues });
}

/** The estimate's standard error from its confidence (confidence = 1 / (1 + se²)); ∞ at 0. */
export function standardError(confidence: number): number {
  if (!(confidence > 0)) return Number.POSITIVE_INFINITY;
  return Math.sqrt(Math.max(0, 1 - Math.min(1, confidence)) / Math.min(1, confidence));
}

/**
 * The share of its declared work a worker is credited with, in [0, 1]:
 * (estimate − margin · se − floor) ÷ (1 − floor), clamped; 0 at or below the floor and without evidence.
 */
export function qualityFactor(estimate: number, confidence: number, rule: QualityRule): number {
  if (!Number.isFinite(estimate) || !(confidence > 0)) return 0;
  const lower = estimate - rule.margin * standardError(confidence);
  if (!(lower > rule.floor)) return 0;
  return Math.min(1, (lower - rule.floor) / (1 - rule.floor));
}

/** Confidently harmful: an estimate below flagBelow with at least flagConfidence. */
export function isFlagged(quality: Pick<WorkerQuality, 'estimate' | 'confidence'>, rule: QualityRule): boolean {
  return quality.estimate < rule.flagBelow && quality.confidence >= rule.flagConfidence;
}

/** What the reward code needs of an estimator. */
export interface QualitySource {
  quality(address: string): WorkerQuality;
}

/** The addresses to leave out of selection (empty when the rule keeps flagged workers in). */
export function excludedWorkers(addresses: Iterable<string>, source: QualitySource, rule: QualityRule): Set<string> {
  const out = new Set<string>();
  if (!rule.excludeFlagged) return out;
  for (const address of addresses) if (isFlagged(source.quality(address), rule)) out.add(address);
  return out;
}

/**
 * A round's contributions with quality applied, for splitRound: each amount is the credited work
 * (declared work capped at the per-worker cap FIRST, so a worker over-declaring cannot regain by
 * volume what its factor takes away) times its factor, rounded down to a whole unit of work.
 * Flagged workers get 0. Order and addresses are kept; no amount is negative.
 */
export function qualityAdjustedContributions(
  contributions: ReadonlyArray<{ readonly address: string; readonly amount: number }>,
  source: QualitySource,
  rule: QualityRule,
  perWorkerContributionCap?: number,
): Array<{ address: string; amount: number }> {
  return contributions.map(({ address, amount }) => {
    const work = Number(creditedWork(amount, perWorkerContributionCap));
    const quality = source.quality(address);
    const factor = isFlagged(quality, rule) ? 0 : qualityFactor(quality.estimate, quality.confidence, rule);
    return { address, amount: Math.floor(work * factor) };
  });
}

/** The estimator settings the rule decides: groups smaller than minGroupSize are never observed. */
export function estimatorOptionsFor(rule: QualityRule): { minGroupSize: number } {
  return { minGroupSize: rule.minGroupSize };
}
