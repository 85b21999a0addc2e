import { afterEach, describe, expect, it, vi } from 'vitest';
import { addGaussianNoise, centralNoiseStd, cryptoRandomWords, distributedNoiseStd, GaussianSampler } from '../../../core/privacy/noise.js';
import { moments, seededSampler } from './seeded.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Gaussian sampler', () => {
  it('draws its randomness from crypto.getRandomValues by default', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    new GaussianSampler().standard();
    expect(spy).toHaveBeenCalled();
  });

  it('fills more than getRandomValues allows in one call (65,536 bytes)', () => {
    const out = new Uint32Array(40_000);
    cryptoRandomWords(out);
    expect(out.slice(-100).some((w) => w !== 0)).toBe(true);
  });

  it('gives standard normal deviates (mean, variance and the 1σ and 2σ masses)', () => {
    // Prepare
    const n = 200_000;
    const sampler = new GaussianSampler();
    // Execute
    const xs = Float64Array.from({ length: n }, () => sampler.standard());
    // Assert, each within about 5 standard errors.
    const { mean, std } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(std - 1)).toBeLessThan(5 * Math.sqrt(0.5 / n));
    const within = (k: number): number => xs.filter((x) => Math.abs(x) < k).length / n;
    expect(Math.abs(within(1) - 0.682689)).toBeLessThan(5 * Math.sqrt((0.68 * 0.32) / n));
    expect(Math.abs(within(2) - 0.9545)).toBeLessThan(5 * Math.sqrt((0.95 * 0.05) / n));
  });

  it('is reproducible from a given word source (for tests only)', () => {
    const a = seededSampler(42);
    const b = seededSampler(42);
    expect(Array.from({ length: 5 }, () => a.standard())).toEqual(Array.from({ length: 5 }, () => b.standard()));
  });
});

describe('adding noise', () => {
  it('adds N(0, std²) to each coordinate and leaves the input alone', () => {
    const x = new Float32Array(50_000).fill(3);
    const noised = addGaussianNoise(x, 0.5, seededSampler(1));
    const { mean, std } = moments(noised);
    expect(mean).toBeCloseTo(3, 2);
    expect(std).toBeCloseTo(0.5, 2);
    expect(x[0]).toBe(3);
  });

  it('returns a plain copy for std 0, refuses a negative std', () => {
    const x = Float32Array.from([1, 2]);
    expect(Array.from(addGaussianNoise(x, 0))).toEqual([1, 2]);
    expect(() => addGaussianNoise(x, -1)).toThrow(RangeError);
  });
});

describe('noise scales', () => {
  it('central: σ·C on the sum', () => {
    expect(centralNoiseStd({ noiseMultiplier: 1.1, clipNorm: 2 })).toBeCloseTo(2.2, 12);
  });

  it('distributed: σ·C/√t per worker, so t shares sum to the central noise', () => {
    // Prepare: σ = 1.2, C = 0.5, t = 16 workers.
    const shareStd = distributedNoiseStd({ noiseMultiplier: 1.2, clipNorm: 0.5, minContributors: 16 });
    expect(shareStd).toBeCloseTo(0.15, 12);
    // Execute: sum 16 workers' shares over 20,000 coordinates.
    const sampler = seededSampler(3);
    const sum = new Float64Array(20_000);
    for (let w = 0; w < 16; w++) {
      const share = addGaussianNoise(new Float32Array(sum.length), shareStd, sampler);
      for (let i = 0; i < sum.length; i++) sum[i]! += share[i]!;
    }
    // Assert: the sum carries std σ·C = 0.6.
    expect(moments(sum).std / 0.6).toBeCloseTo(1, 1);
  });

  it('falls short when fewer than t shares arrive (the trust caveat)', () => {
    // 8 of t = 16 shares carry only half the variance: std σ·C/√2.
    const shareStd = distributedNoiseStd({ noiseMultiplier: 1, clipNorm: 1, minContributors: 16 });
    expect(Math.sqrt(8) * shareStd).toBeCloseTo(1 / Math.SQRT2, 12);
  });
});
