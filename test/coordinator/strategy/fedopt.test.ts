import { describe, expect, it } from 'vitest';
import { FedAdagrad } from '../../../coordinator/strategy/fedadagrad.js';
import { FedAdam } from '../../../coordinator/strategy/fedadam.js';
import { FedYogi } from '../../../coordinator/strategy/fedyogi.js';
import { pseudoGradient, yogiSecondMoment } from '../../../coordinator/strategy/server-optimizers.js';
import { roundOf, vec } from './helpers.js';

// Hand-computed cases use η = 1, β₁ = β₂ = 0.5 and τ = 1 (so v starts at τ² = 1) to keep the
// arithmetic short. The model has two coordinates; the second never moves (its delta is 0), which
// also checks that g = 0 leaves x alone whatever v is.
const hand = { serverLr: 1, beta1: 0.5, beta2: 0.5, tau: 1 };
// Round 1: mean delta [−1, 0] → g = [1, 0]. Round 2: mean delta [3, 0] → g = [−3, 0].
const round1 = roundOf([[[-1, 0], 2]]);
const round2 = roundOf([[[3, 0], 4]]);

describe('pseudo-gradient sign (Reddi et al. 2021, Algorithm 2)', () => {
  it('is minus the weighted mean delta', () => {
    expect(Array.from(pseudoGradient(vec(6, -3), 3))).toEqual([-2, 1]);
  });

  it('moves the model in the direction of the mean delta', () => {
    const next = new FedAdam().aggregate(1, vec(0, 0), roundOf([[[1, -1], 1]]));
    expect(next[0]).toBeGreaterThan(0);
    expect(next[1]).toBeLessThan(0);
  });
});

describe('FedAdam', () => {
  it('matches a hand-computed two-round run', () => {
    const strategy = new FedAdam(hand);
    // Round 1: m = 0.5·0 + 0.5·1 = 0.5; v = 0.5·1 + 0.5·1 = 1; x = 0 − 0.5/(√1 + 1) = −0.25.
    const x1 = strategy.aggregate(1, vec(0, 7), round1);
    expect(Array.from(x1)).toEqual([-0.25, 7]);
    // Round 2: m = 0.25 − 1.5 = −1.25; v = 0.5 + 4.5 = 5; x = −0.25 + 1.25/(√5 + 1) = 0.136271243.
    const x2 = strategy.aggregate(2, x1, round2);
    expect(x2[0]).toBeCloseTo(0.136271243, 6);
    expect(x2[1]).toBe(7);
    // Second coordinate: v decays from 1 to 0.25 but m stays 0.
    expect(strategy.state()['v']![1]).toBeCloseTo(0.25, 7);
  });

  it('takes a step of about η per coordinate in its first round with the defaults', () => {
    // η = 0.01, β₁ = 0.9, β₂ = 0.99, τ = 0.001; mean delta [0.5, −1] → g = [−0.5, 1].
    // m = [−0.05, 0.1]; v = 0.99·10⁻⁶ + 0.01·g² = [0.00250099, 0.01000099];
    // x = [1, 2] − 0.01·m/(√v + τ) = [1.009802019, 1.990099495].
    const x = new FedAdam().aggregate(1, vec(1, 2), roundOf([[[0.5, -1], 1]]));
    expect(x[0]).toBeCloseTo(1.009802019, 6);
    expect(x[1]).toBeCloseTo(1.990099495, 6);
  });
});

describe('FedYogi', () => {
  it('matches a hand-computed two-round run', () => {
    const strategy = new FedYogi(hand);
    // Round 1: g² = 1 = v so sign(v − g²) = 0 and v stays 1; m = 0.5; x = −0.25.
    const x1 = strategy.aggregate(1, vec(0, 7), round1);
    expect(Array.from(x1)).toEqual([-0.25, 7]);
    // Round 2: g² = 9 > v: v = 1 − 0.5·9·(−1) = 5.5; m = −1.25; x = −0.25 + 1.25/(√5.5 + 1) = 0.123668856.
    const x2 = strategy.aggregate(2, x1, round2);
    expect(x2[0]).toBeCloseTo(0.123668856, 6);
    expect(strategy.state()['v']![0]).toBeCloseTo(5.5, 6);
    // Second coordinate: g = 0 < v so v shrinks additively by (1 − β₂)·0 = 0: it stays 1.
    expect(strategy.state()['v']![1]).toBe(1);
  });

  it('moves v additively towards g² (unlike Adam)', () => {
    const v = vec(10, 1);
    yogiSecondMoment(v, vec(1, 2), 0.9);
    // v₀ = 10 > 1: 10 − 0.1·1 = 9.9; v₁ = 1 < 4: 1 + 0.1·4 = 1.4.
    expect(v[0]).toBeCloseTo(9.9, 6);
    expect(v[1]).toBeCloseTo(1.4, 6);
  });
});

describe('FedAdagrad', () => {
  it('matches a hand-computed two-round run (β₁ = 0 by default)', () => {
    const strategy = new FedAdagrad({ serverLr: 1, tau: 1 });
    // Round 1: v = 1 + 1 = 2; m = g = 1; x = −1/(√2 + 1) = −0.414213562.
    const x1 = strategy.aggregate(1, vec(0, 7), round1);
    expect(x1[0]).toBeCloseTo(-0.414213562, 6);
    // Round 2: v = 2 + 9 = 11; m = −3; x = −0.414213562 + 3/(√11 + 1) = 0.280773875.
    const x2 = strategy.aggregate(2, x1, round2);
    expect(x2[0]).toBeCloseTo(0.280773875, 6);
    expect(x2[1]).toBe(7);
  });
});

describe('FedOpt state', () => {
  it('round-trips m and v through state()/restore()', () => {
    // Prepare
    const original = new FedYogi(hand);
    const x1 = original.aggregate(1, vec(0, 7), round1);
    const saved = original.state();
    expect(Object.keys(saved).sort()).toEqual(['m', 'v']);
    // Execute
    const resumed = new FedYogi(hand);
    resumed.restore(saved);
    // Assert: the restored copy is independent of the saved vectors and continues identically.
    saved['m']!.fill(123);
    expect(Array.from(resumed.aggregate(2, x1, round2))).toEqual(Array.from(original.aggregate(2, x1, round2)));
  });

  it('refuses incomplete or foreign state', () => {
    expect(() => new FedAdam().restore({ m: new Float32Array(2) })).toThrow(expect.objectContaining({ code: 'E_STRATEGY_STATE' }));
    expect(() => new FedAdam().restore({ m: new Float32Array(2), v: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'E_STRATEGY_STATE' }));
    expect(() => new FedAdam().restore({ velocity: new Float32Array(2) })).toThrow(expect.objectContaining({ code: 'E_STRATEGY_STATE' }));
  });

  it('keeps model and state when nothing was contributed', () => {
    const strategy = new FedAdam();
    const next = strategy.aggregate(1, vec(1, 2), { weightedDeltaSum: new Float32Array(2), totalWeight: 0, contributors: 0 });
    expect(Array.from(next)).toEqual([1, 2]);
    expect(strategy.state()).toEqual({});
  });
});
