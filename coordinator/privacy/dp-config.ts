/**
 * The `privacy` block of a run file, its defaults, and the checks that refuse combinations whose
 * reported (ε, δ) would not hold.
 *
 * | field             | default          | meaning |
 * |-------------------|------------------|---------|
 * | `clipping`        | `'fixed'`        | `'fixed'` C, or `'adaptive'` C that tracks a quantile of the update norms (Andrew et al. 2021) |
 * | `clipNorm`        | `1`              | C: every worker's delta is clipped to this L2 norm (the initial C when adaptive) |
 * | `targetQuantile`  | `0.5`            | γ (adaptive): the fraction of updates that should fall within C |
 * | `clipLr`          | `0.2`            | η_C (adaptive): C ← C·exp(−η_C(b̄ − γ)) |
 * | `indicatorNoise`  | clientsPerRound/20 | σ_b (adaptive): noise std on the count of unclipped updates |
 * | `noiseMultiplier` | `1`              | σ (z): noise std on the sum ÷ C; what the accountant composes |
 * | `noise`           | `'central'`      | `'central'`: the coordinator noises the sum; `'distributed'`: each worker adds its share (needs secure aggregation) |
 * | `delta`           | `1e-5`           | δ of the reported (ε, δ); keep it below 1/population |
 * | `epsilonBudget`   | none             | stop the run before a round would take ε above this |
 * | `samplingRate`    | clientsPerRound ÷ population | q: the chance a given worker is in a round |
 *
 * Every worker is weighted 1 when DP is on: C must bound each worker's share of the sum.
 *
 * @example
 * const privacy = privacyConfigSchema.parse({ noiseMultiplier: 1.1, epsilonBudget: 8 });
 * const resolved = resolvePrivacy(privacy, { clientsPerRound: 10, population: 100, secureAggregation: true, strategy });
 */
import { z } from 'zod';
import { CohortError } from '../../core/protocol/errors.js';
import { ADAPTIVE_CLIP_DEFAULTS, defaultIndicatorNoise, updateNoiseMultiplier } from './adaptive-clip.js';

export const PRIVACY_DEFAULTS = {
  clipping: 'fixed',
  clipNorm: 1,
  targetQuantile: ADAPTIVE_CLIP_DEFAULTS.targetQuantile,
  clipLr: ADAPTIVE_CLIP_DEFAULTS.clipLr,
  noiseMultiplier: 1,
  noise: 'central',
  delta: 1e-5,
} as const;

const finite = (s: z.ZodNumber) => s.refine(Number.isFinite, 'a finite number');

export const privacyConfigSchema = z.strictObject({
  clipping: z.enum(['fixed', 'adaptive']).default(PRIVACY_DEFAULTS.clipping),
  clipNorm: finite(z.number().positive()).default(PRIVACY_DEFAULTS.clipNorm),
  targetQuantile: z.number().gt(0).lt(1).default(PRIVACY_DEFAULTS.targetQuantile),
  clipLr: finite(z.number().positive()).default(PRIVACY_DEFAULTS.clipLr),
  indicatorNoise: finite(z.number().positive()).optional(),
  noiseMultiplier: finite(z.number().min(0)).default(PRIVACY_DEFAULTS.noiseMultiplier),
  noise: z.enum(['central', 'distributed']).default(PRIVACY_DEFAULTS.noise),
  delta: z.number().gt(0).lt(1).default(PRIVACY_DEFAULTS.delta),
  epsilonBudget: finite(z.number().positive()).optional(),
  samplingRate: z.number().gt(0).max(1).optional(),
});
export type PrivacyConfig = z.infer<typeof privacyConfigSchema>;
export type PrivacyConfigInput = z.input<typeof privacyConfigSchema>;

/** What the rest of the run file says, as far as DP cares. */
export interface DpRunContext {
  /** m: workers selected per round. */
  clientsPerRound: number;
  /** P: how many workers can be selected from, where known (gives the default q = m/P). */
  population?: number;
  /** Whether rounds use secure aggregation. */
  secureAggregation: boolean;
  strategy: { name: string; needsIndividualUpdates: boolean };
}

/** A privacy block with everything a round needs worked out. */
export interface ResolvedPrivacy extends PrivacyConfig {
  samplingRate: number;
  /** σ_b (adaptive clipping only). */
  indicatorNoise?: number;
  /** σ_Δ: the update's own noise multiplier (= noiseMultiplier unless adaptive). */
  updateNoiseMultiplier: number;
}

export interface DpIssue {
  /** The field to change, e.g. "privacy.noise". */
  path: string;
  message: string;
}

/** q: the block's samplingRate, else clientsPerRound ÷ population, else unknown. */
function samplingRateOf(privacy: PrivacyConfig, ctx: DpRunContext): number | undefined {
  return privacy.samplingRate ?? (ctx.population === undefined ? undefined : ctx.clientsPerRound / ctx.population);
}

/** Every reason this privacy block cannot give the (ε, δ) it would report; empty when it can. */
export function dpIncompatibility(privacy: PrivacyConfig, ctx: DpRunContext): DpIssue[] {
  const issues: DpIssue[] = [];
  if (ctx.strategy.needsIndividualUpdates) {
    issues.push({
      path: 'strategy.name',
      message: `differential privacy noises the sum of the clipped updates, but "${ctx.strategy.name}" aggregates the individual updates, which that noise does not cover; use a strategy that works on the sum`,
    });
  }
  if (privacy.noise === 'distributed' && !ctx.secureAggregation) {
    issues.push({
      path: 'privacy.noise',
      message: "distributed noise needs secure aggregation: without it the coordinator sees each worker's update carrying only its small share of the noise; use noise: 'central' or turn secure aggregation on",
    });
  }
  const q = samplingRateOf(privacy, ctx);
  if (q === undefined) {
    issues.push({ path: 'privacy.samplingRate', message: 'the sampling rate is unknown: set privacy.samplingRate, or give the population size so that it defaults to clientsPerRound ÷ population' });
  } else if (!(q > 0 && q <= 1)) {
    issues.push({ path: 'privacy.samplingRate', message: `the sampling rate clientsPerRound ÷ population = ${q} must be in (0, 1]` });
  }
  if (ctx.population !== undefined && privacy.delta >= 1 / ctx.population) {
    issues.push({ path: 'privacy.delta', message: `δ = ${privacy.delta} must be below 1/population = ${1 / ctx.population}, or one worker's data could leak outright with probability δ` });
  }
  if (privacy.epsilonBudget !== undefined && privacy.noiseMultiplier === 0) {
    issues.push({ path: 'privacy.noiseMultiplier', message: 'a noise multiplier of 0 gives ε = ∞, which no epsilonBudget can hold' });
  }
  if (privacy.clipping === 'adaptive' && privacy.noiseMultiplier > 0) {
    const sigmaB = privacy.indicatorNoise ?? defaultIndicatorNoise(ctx.clientsPerRound);
    if (!(2 * sigmaB > privacy.noiseMultiplier)) {
      issues.push({
        path: 'privacy.indicatorNoise',
        message: `adaptive clipping needs indicatorNoise σ_b above noiseMultiplier/2 = ${privacy.noiseMultiplier / 2} (it is ${sigmaB}${privacy.indicatorNoise === undefined ? ', the default clientsPerRound/20' : ''}); raise it, or use clipping: 'fixed'`,
      });
    }
  }
  return issues;
}

/** Checks the block against the run (all issues in one E_CONFIG_INVALID) and works out q, σ_b and σ_Δ. */
export function resolvePrivacy(privacy: PrivacyConfig, ctx: DpRunContext): ResolvedPrivacy {
  const issues = dpIncompatibility(privacy, ctx);
  if (issues.length > 0) {
    throw new CohortError('E_CONFIG_INVALID', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { details: issues });
  }
  const samplingRate = samplingRateOf(privacy, ctx) as number; // dpIncompatibility refused undefined
  if (privacy.clipping === 'fixed') return { ...privacy, samplingRate, updateNoiseMultiplier: privacy.noiseMultiplier };
  const indicatorNoise = privacy.indicatorNoise ?? defaultIndicatorNoise(ctx.clientsPerRound);
  return { ...privacy, samplingRate, indicatorNoise, updateNoiseMultiplier: updateNoiseMultiplier(privacy.noiseMultiplier, indicatorNoise) };
}
