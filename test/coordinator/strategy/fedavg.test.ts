import { describe, expect, it } from 'vitest';
import { FedAvg } from '../../../coordinator/strategy/fedavg.js';
import { addScaledInto, allFinite, applyDelta, weightedSum } from '../../../coordinator/strategy/vector-math.js';

describe('vector maths', () => {
  it('weightedSum computes Σ wᵢ·xᵢ', () => {
    const sum = weightedSum(
      [
        { vector: Float32Array.from([1, 2, 3]), weight: 2 },
        { vector: Float32Array.from([10, 0, -1]), weight: 0.5 },
      ],
      3,
    );
    expect(Array.from(sum)).toEqual([7, 4, 5.5]);
  });

  it('addScaledInto refuses vectors of different lengths', () => {
    expect(() => addScaledInto(new Float32Array(2), new Float32Array(3), 1)).toThrow(RangeError);
  });

  it('allFinite spots NaN and Infinity', () => {
    expect(allFinite(Float32Array.from([0, 1, -2]))).toBe(true);
    expect(allFinite(Float32Array.from([0, Number.NaN]))).toBe(false);
    expect(allFinite(Float32Array.from([Number.NEGATIVE_INFINITY]))).toBe(false);
  });

  it('applyDelta leaves the base untouched', () => {
    const base = Float32Array.from([1, 1]);
    const out = applyDelta(base, Float32Array.from([2, -4]), 0.5);
    expect(Array.from(out)).toEqual([2, -1]);
    expect(Array.from(base)).toEqual([1, 1]);
  });
});

describe('FedAvg', () => {
  it('is the example-weighted mean of the workers’ models (hand-computed)', () => {
    // Prepare: global g = [1, 2]; worker A (30 examples) ends at [4, 2], worker B (10) at [0, 6].
    const global = Float32Array.from([1, 2]);
    const deltas = [
      { vector: Float32Array.from([3, 0]), weight: 30 },
      { vector: Float32Array.from([-1, 4]), weight: 10 },
    ];
    // Execute
    const next = new FedAvg().aggregate(1, global, { weightedDeltaSum: weightedSum(deltas, 2), totalWeight: 40, contributors: 2 });
    // Assert: (30·[4,2] + 10·[0,6]) / 40 = [3, 3]
    expect(Array.from(next)).toEqual([3, 3]);
  });

  it('keeps the model when nothing was contributed', () => {
    const global = Float32Array.from([5, 6]);
    const next = new FedAvg().aggregate(1, global, { weightedDeltaSum: new Float32Array(2), totalWeight: 0, contributors: 0 });
    expect(Array.from(next)).toEqual([5, 6]);
    expect(next).not.toBe(global);
  });
});
