import { describe, expect, it } from 'vitest';
import { l2Norm } from '../../../core/privacy/clip.js';
import { clientDpParamsSchema, privatizeUpdate } from '../../../core/privacy/client-dp.js';
import { moments, seededSampler } from './seeded.js';

describe('privatizeUpdate (the worker side)', () => {
  it('central noise, fixed clipping: only clips (the coordinator adds the noise)', () => {
    const { update, norm, clipped } = privatizeUpdate(Float32Array.from([3, 4]), { clipNorm: 1, noiseStd: 0 });
    expect(norm).toBe(5);
    expect(clipped).toBe(true);
    expect(update).toHaveLength(2);
    expect(update[0]).toBeCloseTo(0.6, 6);
  });

  it('distributed noise: adds this worker’s share to every coordinate', () => {
    // Prepare: a zero delta, so the update is pure noise.
    const { update } = privatizeUpdate(new Float32Array(40_000), { clipNorm: 1, noiseStd: 0.25 }, seededSampler(11));
    // Assert
    const { mean, std } = moments(update);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeCloseTo(0.25, 2);
  });

  it('adaptive clipping: appends the centred bit as one extra value', () => {
    const within = privatizeUpdate(Float32Array.from([0.3, 0.4]), { clipNorm: 1, noiseStd: 0, adaptive: { indicatorNoiseStd: 0 } });
    expect(Array.from(within.update).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.3, 0.4, 0.5]);
    const beyond = privatizeUpdate(Float32Array.from([3, 4]), { clipNorm: 1, noiseStd: 0, adaptive: { indicatorNoiseStd: 0 } });
    expect(beyond.update).toHaveLength(3);
    expect(beyond.update[2]).toBe(-0.5);
    expect(l2Norm(beyond.update.subarray(0, 2))).toBeLessThanOrEqual(1);
  });

  it('validates the parameters a worker receives', () => {
    expect(clientDpParamsSchema.safeParse({ clipNorm: 1, noiseStd: 0 }).success).toBe(true);
    expect(clientDpParamsSchema.safeParse({ clipNorm: 0, noiseStd: 0 }).success).toBe(false);
    expect(clientDpParamsSchema.safeParse({ clipNorm: 1, noiseStd: -1 }).success).toBe(false);
    expect(clientDpParamsSchema.safeParse({ clipNorm: 1, noiseStd: 0, extra: 1 }).success).toBe(false);
  });
});
