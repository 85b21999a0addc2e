import { describe, expect, it } from 'vitest';
import { centredUnclippedBit, clipToNorm, l2Norm, unclippedBit } from '../../../core/privacy/clip.js';
import { seededSampler } from './seeded.js';

describe('fixed L2 clipping', () => {
  it('scales a long update down to norm C (hand-computed)', () => {
    // Prepare: ‖[3, 4]‖ = 5; C = 1 → scale 1/5.
    const x = Float32Array.from([3, 4]);
    // Execute
    const { clipped, norm, scale } = clipToNorm(x, 1);
    // Assert
    expect(norm).toBe(5);
    expect(scale).toBeCloseTo(0.2, 12);
    expect(clipped[0]).toBeCloseTo(0.6, 6);
    expect(clipped[1]).toBeCloseTo(0.8, 6);
    expect(Array.from(x)).toEqual([3, 4]);
  });

  it('leaves an update within C unchanged (as a copy)', () => {
    const x = Float32Array.from([3, 4]);
    const { clipped, scale } = clipToNorm(x, 10);
    expect(scale).toBe(1);
    expect(Array.from(clipped)).toEqual([3, 4]);
    expect(clipped).not.toBe(x);
  });

  it('really bounds the norm by C after float32 rounding', () => {
    const sampler = seededSampler(7);
    for (const clipNorm of [0.1, 1, 3.7]) {
      const x = Float32Array.from({ length: 10_000 }, () => 5 * sampler.standard());
      expect(l2Norm(clipToNorm(x, clipNorm).clipped)).toBeLessThanOrEqual(clipNorm);
      expect(l2Norm(clipToNorm(x, clipNorm).clipped)).toBeGreaterThan(clipNorm * (1 - 1e-6));
    }
  });

  it('refuses a non-finite update and a bad C', () => {
    expect(() => clipToNorm(Float32Array.from([1, Number.NaN]), 1)).toThrow(expect.objectContaining({ code: 'E_UPDATE_NOT_FINITE' }));
    expect(() => clipToNorm(Float32Array.from([1]), 0)).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
  });
});

describe('the adaptive-clipping bit (Andrew et al. 2021)', () => {
  it('is 1 when the update is within C and 0 when it was clipped', () => {
    expect(unclippedBit(1, 1)).toBe(1);
    expect(unclippedBit(0.5, 1)).toBe(1);
    expect(unclippedBit(1.0001, 1)).toBe(0);
  });

  it('is sent centred, b − ½, so one worker moves the sum by at most ½', () => {
    expect(centredUnclippedBit(0.5, 1)).toBe(0.5);
    expect(centredUnclippedBit(2, 1)).toBe(-0.5);
  });
});
