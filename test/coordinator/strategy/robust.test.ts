import { describe, expect, it } from 'vitest';
import { FedMedian } from '../../../coordinator/strategy/fedmedian.js';
import { FedTrimmedAvg } from '../../../coordinator/strategy/fedtrimmedavg.js';
import { Krum } from '../../../coordinator/strategy/krum.js';
import { coordinateMedian, coordinateTrimmedMean, krumScores, krumSelect } from '../../../coordinator/strategy/robust-aggregation.js';
import { roundOf, vec } from './helpers.js';

describe('FedMedian (Yin et al. 2018)', () => {
  it('adds the coordinate-wise median delta, ignoring weights (hand-computed)', () => {
    // Prepare: deltas per coordinate: [1, 5, 3] → 3 and [−2, 0, 10] → 0; weights would favour 5 and 0.
    const round = roundOf([[[1, -2], 1], [[5, 0], 100], [[3, 10], 1]]);
    // Execute
    const next = new FedMedian().aggregate(1, vec(10, 10), round);
    // Assert
    expect(Array.from(next)).toEqual([13, 10]);
  });

  it('takes the mean of the two middle values for an even count', () => {
    expect(Array.from(coordinateMedian([vec(1), vec(4), vec(2), vec(100)]))).toEqual([3]);
  });

  it('is not moved far by one Byzantine worker', () => {
    const round = roundOf([[[1], 1], [[1.1], 1], [[0.9], 1], [[1e6], 1]]);
    expect(new FedMedian().aggregate(1, vec(0), round)[0]).toBeCloseTo(1.05, 6);
  });

  it('needs individual updates and says so', () => {
    const sumOnly = roundOf([[[1], 1]], { individual: false });
    expect(() => new FedMedian().aggregate(1, vec(0), sumOnly)).toThrow(expect.objectContaining({ code: 'E_STRATEGY_NEEDS_UPDATES' }));
  });
});

describe('FedTrimmedAvg (Yin et al. 2018)', () => {
  it('drops ⌊β·n⌋ values at each end, per coordinate (hand-computed)', () => {
    // Prepare: n = 5, β = 0.2 → drop 1 each side. Coordinate 0: [10, 1, 2, 3, −100] → mean(1, 2, 3) = 2.
    // Coordinate 1: [0, 0, 6, 3, 3] → sorted [0, 0, 3, 3, 6] → mean(0, 3, 3) = 2.
    const round = roundOf([[[10, 0], 1], [[1, 0], 1], [[2, 6], 1], [[3, 3], 1], [[-100, 3], 1]]);
    // Execute
    const next = new FedTrimmedAvg({ beta: 0.2 }).aggregate(1, vec(1, 1), round);
    // Assert
    expect(Array.from(next)).toEqual([3, 3]);
  });

  it('is the unweighted mean when ⌊β·n⌋ = 0', () => {
    expect(Array.from(coordinateTrimmedMean([vec(1), vec(2), vec(6)], 0.2))).toEqual([3]);
  });

  it('refuses β ≥ 0.5', () => {
    expect(() => new FedTrimmedAvg({ beta: 0.5 })).toThrow(RangeError);
  });
});

describe('Krum and Multi-Krum (Blanchard et al. 2017)', () => {
  // Five 1-D deltas 0, 1, 2, 3 and an outlier 100; f = 1 → each scores its n − f − 2 = 2 nearest.
  // Squared distances: 0 → {1, 4} = 5; 1 → {1, 1} = 2; 2 → {1, 1} = 2; 3 → {1, 4} = 5;
  // 100 → {97², 98²} = 9409 + 9604 = 19013.
  const deltas: Array<[number[], number]> = [[[0], 2], [[1], 1], [[2], 1], [[3], 1], [[100], 1]];

  it('scores each update by its n − f − 2 nearest squared distances (hand-computed)', () => {
    expect(krumScores(deltas.map(([d]) => Float32Array.from(d)), 1)).toEqual([5, 2, 2, 5, 19013]);
    expect(krumSelect([5, 2, 2, 5, 19013], 3)).toEqual([1, 2, 0]);
  });

  it('Krum (m = 1) adopts the best-scored update; ties go to the lower index', () => {
    const next = new Krum({ byzantine: 1 }).aggregate(1, vec(10), roundOf(deltas));
    expect(Array.from(next)).toEqual([11]);
  });

  it('Multi-Krum averages the m best, weighted by examples', () => {
    // Chosen: 1 (w 1), 2 (w 1), 0 (w 2) → (1 + 2 + 0·2) / 4 = 0.75.
    const next = new Krum({ byzantine: 1, keep: 3 }).aggregate(1, vec(10), roundOf(deltas));
    expect(Array.from(next)).toEqual([10.75]);
  });

  it('refuses a round with n ≤ 2f + 2, naming the numbers', () => {
    const four = roundOf(deltas.slice(0, 4));
    expect(() => new Krum({ byzantine: 1 }).aggregate(1, vec(0), four)).toThrow(
      expect.objectContaining({ code: 'E_STRATEGY_INPUT', message: expect.stringContaining('at least 5 updates') }),
    );
  });

  it('refuses m > n − f', () => {
    expect(() => new Krum({ byzantine: 1, keep: 5 }).aggregate(1, vec(0), roundOf(deltas))).toThrow(expect.objectContaining({ code: 'E_STRATEGY_INPUT' }));
  });

  it('keeps the model when nobody contributed', () => {
    expect(Array.from(new Krum().aggregate(1, vec(4), roundOf([])))).toEqual([4]);
  });
});
