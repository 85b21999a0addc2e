/**
 * Gaussian noise for differential privacy, from a cryptographically secure source
 * (crypto.getRandomValues, in Node and in browsers), and the noise scales of the two ways a run
 * can add it.
 *
 * - CENTRAL: the coordinator adds N(0, σ²C²) to each coordinate of the round's sum of clipped
 *   updates (C the clip norm, σ the noise multiplier). It works with or without secure
 *   aggregation (the coordinator noises the sum it is given), but the coordinator must be trusted
 *   to add the noise.
 * - DISTRIBUTED: each worker adds N(0, σ²C²/t) to its own clipped update before secure
 *   aggregation, so a sum of n ≥ t updates carries variance n·σ²C²/t ≥ σ²C² and the coordinator
 *   never sees an un-noised sum (Kairouz, Liu and Steinke, "The Distributed Discrete Gaussian
 *   Mechanism for Federated Learning with Secure Aggregation", ICML 2021, use this split with a
 *   discrete Gaussian). It needs secure aggregation: alone, each share is far too small to
 *   protect one worker's update.
 *
 * TRUST CAVEAT for distributed noise: the guarantee holds only if at least t honest shares reach
 * the sum. Choose t as the fewest contributors a round can complete with: the SecAgg threshold,
 * below which the round fails anyway. If only n < t survived, or c workers collude and subtract
 * their own (known) shares, the sum carries only (n − c)/t of the target variance and the real ε
 * is larger than the one reported. Raising t above the threshold buys slack against colluders
 * at the price of more noise when everybody survives.
 *
 * The sampler is the textbook Box–Muller transform on 53-bit uniform doubles. It is not hardened
 * against floating-point side channels (Mironov, "On Significance of the Least Significant Bits
 * for Differential Privacy", CCS 2012); a discrete Gaussian (Canonne, Kamath and Steinke 2020)
 * would be.
 *
 * @example
 * const sampler = new GaussianSampler();
 * const share = addGaussianNoise(clipped, distributedNoiseStd({ noiseMultiplier: 1.1, clipNorm: 1, minContributors: t }), sampler);
 */

/** Fills an array with uniform 32-bit words. */
export type RandomWords = (out: Uint32Array) => void;

/** crypto.getRandomValues, in the chunks of at most 65,536 bytes it accepts. */
export const cryptoRandomWords: RandomWords = (out) => {
  for (let off = 0; off < out.length; off += 16_384) globalThis.crypto.getRandomValues(out.subarray(off, Math.min(out.length, off + 16_384)));
};

const TWO_POW_26 = 67_108_864;
const TWO_POW_53 = 9_007_199_254_740_992;
const BUFFER_WORDS = 8_192;

/** Standard normal deviates by the Box–Muller transform, from a (by default cryptographic) source. */
export class GaussianSampler {
  private readonly words = new Uint32Array(BUFFER_WORDS);
  private next = BUFFER_WORDS;
  private spare: number | undefined;

  constructor(private readonly random: RandomWords = cryptoRandomWords) {}

  /** A uniform double in [0, 1) with 53 random bits (two 32-bit words). */
  private uniform(): number {
    if (this.next + 2 > BUFFER_WORDS) {
      this.random(this.words);
      this.next = 0;
    }
    const a = this.words[this.next++]! >>> 5;
    const b = this.words[this.next++]! >>> 6;
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  /** One N(0, 1) deviate. */
  standard(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    // u1 ∈ (0, 1] so log(u1) is finite; Box and Muller (1958).
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** x + N(0, std²) on every coordinate (a new array). std = 0 returns a copy. */
export function addGaussianNoise(x: Float32Array, std: number, sampler: GaussianSampler = new GaussianSampler()): Float32Array {
  if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`noise std must be a finite number ≥ 0, got ${std}`);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = std === 0 ? x[i]! : x[i]! + std * sampler.standard();
  return out;
}

/** One scalar plus N(0, std²). */
export function noisyScalar(value: number, std: number, sampler: GaussianSampler = new GaussianSampler()): number {
  if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`noise std must be a finite number ≥ 0, got ${std}`);
  return std === 0 ? value : value + std * sampler.standard();
}

export interface NoiseScale {
  /** σ: noise std ÷ L2 sensitivity. */
  noiseMultiplier: number;
  /** C: the clip norm, i.e. one worker's L2 sensitivity (weight 1). */
  clipNorm: number;
}

/** Central noise: the coordinator adds N(0, (σC)²) to each coordinate of the sum. */
export function centralNoiseStd({ noiseMultiplier, clipNorm }: NoiseScale): number {
  return noiseMultiplier * clipNorm;
}

/**
 * Distributed noise: each worker's share, σC/√t, so that any t or more shares add up to at least
 * the central N(0, (σC)²). t = the fewest contributors a round may complete with (see the trust
 * caveat above).
 */
export function distributedNoiseStd({ noiseMultiplier, clipNorm, minContributors }: NoiseScale & { minContributors: number }): number {
  if (!(Number.isInteger(minContributors) && minContributors >= 1)) throw new RangeError(`minContributors must be an integer ≥ 1, got ${minContributors}`);
  return (noiseMultiplier * clipNorm) / Math.sqrt(minContributors);
}
