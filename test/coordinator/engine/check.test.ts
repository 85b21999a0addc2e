/**
 * The aggregate bounds the `check` step holds a round to (the attack tests in test/security show
 * them through the real path; these pin each bound and its slack).
 */
import { describe, expect, it } from 'vitest';
import { quantizationBound } from '../../../core/secagg/quantize.js';
import { checkAggregate } from '../../../coordinator/engine/steps/check.js';

const sum = (values: number[], totalWeight: number, contributors: number) => ({ weightedDeltaSum: Float32Array.from(values), totalWeight, contributors });
const finite = Float32Array.from([0, 0]);

describe('checkAggregate', () => {
  it('accepts a sum inside every bound', () => {
    expect(checkAggregate(sum([0.5, -2], 3, 3), finite, { maxWeight: 1, coordinateBound: 1 })).toBeUndefined();
  });

  it('refuses Σw ≤ 0 and Σw above contributors × max weight', () => {
    expect(checkAggregate(sum([0, 0], 0, 2), finite, { maxWeight: 1, coordinateBound: 1 })).toMatch(/total weight 0/);
    expect(checkAggregate(sum([0, 0], 2.5, 2), finite, { maxWeight: 1, coordinateBound: 1 })).toMatch(/total weight 2.5 of 2/);
    expect(checkAggregate(sum([0, 0], 1, 0), finite, { maxWeight: 1, coordinateBound: 1 })).toMatch(/of 0 contributors/);
  });

  it('refuses a coordinate beyond Σw × bound, and allows the quantization error of a secure sum', () => {
    expect(checkAggregate(sum([0, 3.5], 3, 3), finite, { maxWeight: 1, coordinateBound: 1 })).toMatch(/sum coordinate 1 is 3.5/);
    const quantization = { clipRange: 1, bits: 16 };
    const slack = quantizationBound({ ...quantization, contributors: 3, maxWeight: 1 }).perCoordinate;
    expect(checkAggregate(sum([3 + slack / 2, 0], 3, 3), finite, { maxWeight: 1, coordinateBound: 1, quantization })).toBeUndefined();
    expect(checkAggregate(sum([3 + 2 * slack, 0], 3, 3), finite, { maxWeight: 1, coordinateBound: 1, quantization })).toMatch(/sum coordinate 0/);
  });

  it('holds an unbounded (plain) sum only to being finite, and the new model always to being finite', () => {
    expect(checkAggregate(sum([1e30, -1e30], 2, 2), finite, { maxWeight: 100, coordinateBound: Number.POSITIVE_INFINITY })).toBeUndefined();
    expect(checkAggregate(sum([Number.NaN, 0], 2, 2), finite, { maxWeight: 100, coordinateBound: Number.POSITIVE_INFINITY })).toMatch(/NaN/);
    expect(checkAggregate(sum([0, 0], 2, 2), Float32Array.from([0, Number.POSITIVE_INFINITY]), { maxWeight: 1, coordinateBound: 1 })).toMatch(/new global model is not finite \(coordinate 1/);
  });
});
