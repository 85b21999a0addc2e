/**
 * Rényi DP of the Sampled Gaussian Mechanism (SGM): each record joins a step's batch independently
 * with probability q (Poisson sampling), the batch's clipped sum (L2 sensitivity 1) gets
 * N(0, σ²) noise. Mironov, Talwar and Zhang, "Rényi Differential Privacy of the Sampled Gaussian
 * Mechanism" (2019, arXiv:1908.10530), Section 3.3, give its RDP at order α as
 *
 *   RDP(α) = log(A_α) / (α − 1),   A_α = E_{z∼μ₀}[(μ(z)/μ₀(z))^α],
 *   μ₀ = N(0, σ²), μ = (1 − q)·μ₀ + q·N(1, σ²).
 *
 * Integer α: the exact binomial expansion
 *   A_α = Σ_{i=0..α} C(α, i)·(1 − q)^{α−i}·q^i·exp((i² − i)/(2σ²)).
 * Fractional α: split the integral at z₀ = σ²·log(1/q − 1) + 1/2, where q·μ₁/μ₀ = 1 − q, and expand
 * each side as a (generalised, signed) binomial series that converges on it; the two parts are
 *   A₀ = Σ_i C(α, i)·q^i·(1 − q)^{α−i}·e^{(i² − i)/(2σ²)}·½·erfc((i − z₀)/(√2·σ))
 *   A₁ = Σ_i C(α, i)·q^{α−i}·(1 − q)^i·e^{(j² − j)/(2σ²)}·½·erfc((z₀ − j)/(√2·σ)),  j = α − i.
 * C(α, i) changes sign for i > α, and the terms are added with their signs: the exact value, as in
 * Opacus's rdp.py. (Google's dp-accounting now adds |C(α, i)|, a slightly larger upper bound.)
 *
 * Everything is computed in log space (log-math.ts); σ = 0.1 with α = 63 needs terms near e^{200}.
 */
import { logAdd, logErfc, logSub } from './log-math.js';

/** Largest number of terms of the fractional-order series before the order is given up on. */
const MAX_FRACTIONAL_TERMS = 10_000;

/** log C(α, i) for i = 0..α, by the recurrence C(α, i+1) = C(α, i)·(α − i)/(i + 1). */
function logBinomialsInt(alpha: number): Float64Array {
  const out = new Float64Array(alpha + 1);
  for (let i = 0; i < alpha; i++) out[i + 1] = out[i]! + Math.log(alpha - i) - Math.log(i + 1);
  return out;
}

/** log A_α for integer α ≥ 2 and 0 < q < 1, by the exact binomial expansion. */
export function logAInt(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const logC = logBinomialsInt(alpha);
  let logA = Number.NEGATIVE_INFINITY;
  for (let i = 0; i <= alpha; i++) {
    const term = logC[i]! + i * logQ + (alpha - i) * log1mQ + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA;
}

/**
 * log A_α for fractional α > 1 and 0 < q < 1, by the two signed series of Section 3.3. Returns +∞
 * when the series has not converged after MAX_FRACTIONAL_TERMS terms (that order is then useless,
 * which only makes ε larger: the safe side).
 */
export function logAFrac(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const sqrt2Sigma = Math.SQRT2 * sigma;
  const twoSigma2 = 2 * sigma * sigma;
  let logA0 = Number.NEGATIVE_INFINITY;
  let logA1 = Number.NEGATIVE_INFINITY;
  // log|C(α, i)| and its sign, by the recurrence C(α, i+1) = C(α, i)·(α − i)/(i + 1).
  let logCoef = 0;
  let positive = true;
  for (let i = 0; i < MAX_FRACTIONAL_TERMS; i++) {
    const j = alpha - i;
    const logS0 = logCoef + i * logQ + j * log1mQ + (i * i - i) / twoSigma2 + Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const logS1 = logCoef + j * logQ + i * log1mQ + (j * j - j) / twoSigma2 + Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    if (positive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    // Past i > α the terms alternate in sign and shrink, so the truncation error is below the
    // first omitted term: stop once that is under e^-30 (1e-13) of the sum (dp-accounting's rule).
    if (i > alpha && Math.max(logS0, logS1) < logAdd(logA0, logA1) - 30) return logAdd(logA0, logA1);
    const ratio = (alpha - i) / (i + 1);
    logCoef += Math.log(Math.abs(ratio));
    if (ratio < 0) positive = !positive;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * RDP of ONE step of the SGM at order α, in nats. Special cases: q = 0 gives 0 (nobody's data is
 * touched); σ = 0 gives +∞ (no noise); q = 1 is the plain Gaussian mechanism, α/(2σ²)
 * (Mironov 2017, "Rényi Differential Privacy", Proposition 7).
 */
export function sgmRdpAt(q: number, sigma: number, alpha: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling rate q must be in [0, 1], got ${q}`);
  if (!(sigma >= 0)) throw new RangeError(`noise multiplier σ must be ≥ 0, got ${sigma}`);
  if (!(alpha > 1)) throw new RangeError(`RDP order α must be > 1, got ${alpha}`);
  if (q === 0) return 0;
  if (sigma === 0 || alpha === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** RDP of `steps` compositions of the SGM at each order: RDP composes additively. */
export function sgmRdp(q: number, sigma: number, steps: number, orders: readonly number[]): Float64Array {
  if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`steps must be an integer ≥ 0, got ${steps}`);
  const out = new Float64Array(orders.length);
  for (let k = 0; k < orders.length; k++) out[k] = steps === 0 ? 0 : steps * sgmRdpAt(q, sigma, orders[k]!);
  return out;
}
