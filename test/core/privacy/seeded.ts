import { GaussianSampler, type RandomWords } from '../../../core/privacy/noise.js';

/** A reproducible word source for tests (xorshift32); never for real noise. */
export function seededWords(seed: number): RandomWords {
  let s = seed >>> 0 || 1;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = s;
    }
  };
}

export const seededSampler = (seed: number): GaussianSampler => new GaussianSampler(seededWords(seed));

/** Sample mean and (population) standard deviation. */
export function moments(xs: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i]!;
  const mean = sum / xs.length;
  let sq = 0;
  for (let i = 0; i < xs.length; i++) sq += (xs[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / xs.length) };
}
