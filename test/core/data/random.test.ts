import { describe, expect, it } from 'vitest';
import { createRandom, deriveSeed, dirichlet, gamma, permutation, shuffleInPlace } from '../../../core/data/random.js';

describe('seeded randomness', () => {
  it('is reproducible and seed-dependent', () => {
    const a = createRandom(1);
    const b = createRandom(1);
    const c = createRandom(2);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
    expect(deriveSeed(1, 0)).not.toBe(deriveSeed(1, 1));
  });

  it('is roughly uniform', () => {
    const rng = createRandom(9);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) bins[Math.floor(rng() * 10)]!++;
    for (const b of bins) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it('shuffles into a permutation', () => {
    const p = Array.from(permutation(100, createRandom(3)));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    const items = ['a', 'b', 'c', 'd'];
    shuffleInPlace(items, createRandom(4));
    expect([...items].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('samples gamma with the right mean, and Dirichlet on the simplex', () => {
    const rng = createRandom(5);
    for (const shape of [0.3, 1, 4]) {
      let sum = 0;
      const n = 20_000;
      for (let i = 0; i < n; i++) sum += gamma(rng, shape);
      expect(Math.abs(sum / n - shape)).toBeLessThan(0.05 * Math.max(1, shape));
    }
    for (const alpha of [1e-4, 0.1, 100]) {
      const p = dirichlet(rng, alpha, 7);
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
      for (const v of p) expect(v).toBeGreaterThanOrEqual(0);
    }
  });
});
