/**
 * One differentially private round, from the coordinator's side. The engine calls, in order:
 *
 *   1. budget.assertRoundFits(round, plan.accounting)    (budget.ts: stop BEFORE overspending)
 *   2. plan = planDpRound(privacy, clipNorm, t)          (this file; t = the round's SecAgg threshold)
 *   3. each worker: privatizeUpdate(delta, plan.client)  (core/privacy/client-dp.ts: clip, its noise
 *                                                         share if distributed, the adaptive bit)
 *   4. secure (or plain) sum of the updates, every worker weighted 1
 *   5. { aggregate, nextClipNorm } = finishDpRound(sum, plan, privacy)   (central noise, new C)
 *   6. strategy.aggregate(round, global, aggregate)
 *   7. budget.record(plan.accounting)                    (report (ε, δ) for the round)
 *
 * and keeps `nextClipNorm` for the next round (and in its checkpoint).
 *
 * @example
 * const plan = planDpRound(privacy, clipNorm, secAgg.threshold);
 * // … train with plan.client in every worker's instructions, collect the sum …
 * const { aggregate, nextClipNorm } = finishDpRound(outcome.aggregate, plan, privacy);
 */
import type { ClientDpParams } from '../../core/privacy/client-dp.js';
import { addGaussianNoise, centralNoiseStd, distributedNoiseStd, GaussianSampler, noisyScalar } from '../../core/privacy/noise.js';
import { CohortError } from '../../core/protocol/errors.js';
import type { RoundAggregate } from '../strategy/strategy.js';
import { nextClipNorm, unclippedFraction } from './adaptive-clip.js';
import type { ResolvedPrivacy } from './dp-config.js';
import type { SgmSteps } from './rdp-accountant.js';

export interface DpRoundPlan {
  /** C this round. */
  clipNorm: number;
  /** What every selected worker is told to do (goes into its training instructions). */
  client: ClientDpParams;
  /** Std the coordinator adds to each coordinate of the sum: σ_Δ·C central, 0 distributed. */
  serverNoiseStd: number;
  /** Std the coordinator adds to the sum of bits: σ_b central adaptive, else 0. */
  serverIndicatorNoiseStd: number;
  /** The SGM step this round costs: what the budget checks and the accountant composes. */
  accounting: Required<SgmSteps>;
  /** Values per update beyond the model's: 1 with adaptive clipping (the bit), else 0. */
  extraValues: 0 | 1;
}

/**
 * The round's DP parameters. `minContributors` (t) matters only for distributed noise: each of
 * the workers adds 1/√t of the noise, so t must be the fewest contributors the round can complete
 * with, the SecAgg threshold (see core/privacy/noise.ts for the trust caveat).
 */
export function planDpRound(privacy: ResolvedPrivacy, clipNorm: number, minContributors = 1): DpRoundPlan {
  if (!(clipNorm > 0) || !Number.isFinite(clipNorm)) throw new CohortError('E_CONFIG_INVALID', `clip norm must be a finite number > 0, got ${clipNorm}`);
  const distributed = privacy.noise === 'distributed';
  const scale = { noiseMultiplier: privacy.updateNoiseMultiplier, clipNorm };
  const noiseStd = distributed ? distributedNoiseStd({ ...scale, minContributors }) : 0;
  const sigmaB = privacy.clipping === 'adaptive' ? (privacy.indicatorNoise ?? 0) : 0;
  const client: ClientDpParams = { clipNorm, noiseStd };
  if (privacy.clipping === 'adaptive') client.adaptive = { indicatorNoiseStd: distributed && privacy.noiseMultiplier > 0 ? sigmaB / Math.sqrt(minContributors) : 0 };
  return {
    clipNorm,
    client,
    serverNoiseStd: distributed ? 0 : centralNoiseStd(scale),
    serverIndicatorNoiseStd: distributed || privacy.noiseMultiplier === 0 ? 0 : sigmaB,
    accounting: { q: privacy.samplingRate, sigma: privacy.noiseMultiplier, steps: 1 },
    extraValues: privacy.clipping === 'adaptive' ? 1 : 0,
  };
}

/**
 * A coordinate bound for the secure sum's per-coordinate clipping (SecAgg `clipRange`) that a
 * worker's clipped and noised values exceed with probability about 2·10⁻⁹ each (6 standard
 * deviations): clipping a noised value would make the noise no longer Gaussian.
 */
export function suggestedSecAggClipRange(plan: DpRoundPlan): number {
  const update = plan.clipNorm + 6 * plan.client.noiseStd;
  const bit = plan.client.adaptive === undefined ? 0 : 0.5 + 6 * plan.client.adaptive.indicatorNoiseStd;
  return Math.max(update, bit);
}

export interface FinishedDpRound {
  /** The sum over the model's coordinates, with central noise added; ready for strategy.aggregate. */
  aggregate: RoundAggregate;
  /** C for the next round (unchanged with fixed clipping or an empty round). */
  nextClipNorm: number;
  /** Adaptive only: the noised estimate b̄ of the fraction of unclipped updates. */
  unclippedFraction?: number;
}

/** Adds the central noise, reads and removes the adaptive bit, and moves C. */
export function finishDpRound(
  aggregate: RoundAggregate,
  plan: DpRoundPlan,
  privacy: ResolvedPrivacy,
  sampler: GaussianSampler = new GaussianSampler(),
): FinishedDpRound {
  const { contributors, totalWeight } = aggregate;
  const sum = aggregate.weightedDeltaSum;
  const modelLength = sum.length - plan.extraValues;
  if (contributors === 0 || totalWeight <= 0) {
    return { aggregate: { weightedDeltaSum: sum.slice(0, Math.max(0, modelLength)), totalWeight, contributors }, nextClipNorm: plan.clipNorm };
  }
  if (Math.abs(totalWeight - contributors) > 1e-6 * contributors) {
    throw new CohortError(
      'E_CONFIG_INVALID',
      `differential privacy needs every worker weighted 1 (C bounds each worker's share of the sum), but ${contributors} contributors have total weight ${totalWeight}`,
    );
  }
  const noised = addGaussianNoise(sum.subarray(0, modelLength), plan.serverNoiseStd, sampler);
  const result: FinishedDpRound = { aggregate: { weightedDeltaSum: noised, totalWeight, contributors }, nextClipNorm: plan.clipNorm };
  if (plan.extraValues === 1) {
    const bitSum = noisyScalar(sum[modelLength]!, plan.serverIndicatorNoiseStd, sampler);
    const b = unclippedFraction(bitSum, contributors);
    result.unclippedFraction = b;
    result.nextClipNorm = nextClipNorm({ clipNorm: plan.clipNorm, unclippedFraction: b, targetQuantile: privacy.targetQuantile, clipLr: privacy.clipLr });
  }
  return result;
}
