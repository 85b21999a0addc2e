/**
 * The server side of adaptive clipping (Andrew, Thakkar, McMahan and Ramaswamy, "Differentially
 * Private Learning with Adaptive Clipping", NeurIPS 2021), as pure functions.
 *
 * Each round every worker reports the centred bit b − ½, b = 1[‖Δ‖ ≤ C] (core/privacy/clip.ts).
 * Their sum is noised with N(0, σ_b²) (central, or in shares, distributed), giving an estimate of
 * the fraction of unclipped updates, b̄. C then moves geometrically towards the γ-quantile of the
 * update norms:
 *
 *   C ← C · exp(−η_C · (b̄ − γ)).
 *
 * Too many updates unclipped (b̄ > γ) shrinks C; too few grows it. The bit sum is a second Gaussian
 * query on the same workers, so the round's privacy is that of ONE Gaussian mechanism with noise
 * multiplier z given by z⁻² = σ_Δ⁻² + (2σ_b)⁻² (the bit's sensitivity is ½); for a target z the
 * update's own multiplier is therefore σ_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2), slightly above z. Andrew et al.
 * recommend σ_b = m/20 for m expected workers per round, γ = 0.5 and η_C = 0.2.
 *
 * @example
 * const sigmaDelta = updateNoiseMultiplier(1.0, defaultIndicatorNoise(100));   // σ_b = 5: ≈ 1.005
 * const b = unclippedFraction(noisedBitSum, contributors);
 * clipNorm = nextClipNorm({ clipNorm, unclippedFraction: b, targetQuantile: 0.5, clipLr: 0.2 });
 */
import { CohortError } from '../../core/protocol/errors.js';

export const ADAPTIVE_CLIP_DEFAULTS = {
  /** γ: aim C at the median update norm. */
  targetQuantile: 0.5,
  /** η_C: the geometric learning rate of C. */
  clipLr: 0.2,
  /** σ_b = expected workers per round ÷ this. */
  indicatorNoiseDivisor: 20,
} as const;

/** Andrew et al.'s recommended σ_b = m/20 for m expected workers per round. */
export function defaultIndicatorNoise(expectedClients: number): number {
  return expectedClients / ADAPTIVE_CLIP_DEFAULTS.indicatorNoiseDivisor;
}

/**
 * σ_Δ such that the update query (σ_Δ) and the bit query (σ_b, sensitivity ½) together are as
 * private as one Gaussian mechanism with multiplier z. Needs 2σ_b > z, else no σ_Δ suffices.
 */
export function updateNoiseMultiplier(z: number, indicatorNoise: number): number {
  if (!(z >= 0)) throw new RangeError(`noise multiplier must be ≥ 0, got ${z}`);
  if (z === 0) return 0;
  const rest = z ** -2 - (2 * indicatorNoise) ** -2;
  if (!(rest > 0)) {
    throw new CohortError(
      'E_CONFIG_INVALID',
      `adaptive clipping: the indicator noise σ_b = ${indicatorNoise} must exceed half the noise multiplier (${z / 2}), or the bit query alone spends the whole budget`,
    );
  }
  return rest ** -0.5;
}

/** b̄ from the noised sum of centred bits Σ(bᵢ − ½) + noise over `contributors` workers. */
export function unclippedFraction(noisedCentredSum: number, contributors: number): number {
  if (!(contributors > 0)) throw new RangeError(`contributors must be > 0, got ${contributors}`);
  return noisedCentredSum / contributors + 0.5;
}

export interface ClipUpdate {
  clipNorm: number;
  unclippedFraction: number;
  targetQuantile: number;
  clipLr: number;
}

/** The geometric update C · exp(−η_C (b̄ − γ)) (Andrew et al. 2021). */
export function nextClipNorm({ clipNorm, unclippedFraction: b, targetQuantile, clipLr }: ClipUpdate): number {
  return clipNorm * Math.exp(-clipLr * (b - targetQuantile));
}
