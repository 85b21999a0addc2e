import { describe, expect, it } from 'vitest';
import { defaultIndicatorNoise, nextClipNorm, unclippedFraction, updateNoiseMultiplier } from '../../../coordinator/privacy/adaptive-clip.js';

describe('adaptive clipping, server side (Andrew et al. 2021)', () => {
  it('moves C geometrically against the excess of unclipped updates (hand-computed)', () => {
    // C = 1, γ = 0.5, η_C = 0.2. b̄ = 0.8: C·e^(−0.2·0.3) = e^(−0.06) = 0.941764534.
    expect(nextClipNorm({ clipNorm: 1, unclippedFraction: 0.8, targetQuantile: 0.5, clipLr: 0.2 })).toBeCloseTo(0.941764534, 9);
    // b̄ = γ: C stays. b̄ = 0: C·e^(0.1) = 1.105170918.
    expect(nextClipNorm({ clipNorm: 1, unclippedFraction: 0.5, targetQuantile: 0.5, clipLr: 0.2 })).toBe(1);
    expect(nextClipNorm({ clipNorm: 1, unclippedFraction: 0, targetQuantile: 0.5, clipLr: 0.2 })).toBeCloseTo(1.105170918, 9);
  });

  it('reads b̄ from the sum of centred bits', () => {
    // 10 workers, 7 unclipped: Σ(b − ½) = 7·½ − 3·½ = 2 → b̄ = 2/10 + ½ = 0.7.
    expect(unclippedFraction(2, 10)).toBeCloseTo(0.7, 12);
  });

  it('tracks the target quantile of the update norms', () => {
    // Prepare: 100 workers with norms 0.05, 0.15, …, 9.95 (median 5); start far off at C = 0.1.
    const norms = Array.from({ length: 100 }, (_, i) => (i + 0.5) / 10);
    let clipNorm = 0.1;
    // Execute: 300 noise-free rounds with γ = 0.5, η_C = 0.2.
    for (let round = 0; round < 300; round++) {
      const b = norms.filter((n) => n <= clipNorm).length / norms.length;
      clipNorm = nextClipNorm({ clipNorm, unclippedFraction: b, targetQuantile: 0.5, clipLr: 0.2 });
    }
    // Assert
    expect(clipNorm).toBeGreaterThan(4.5);
    expect(clipNorm).toBeLessThan(5.5);
  });

  it('splits the noise multiplier: z⁻² = σ_Δ⁻² + (2σ_b)⁻²', () => {
    // z = 1, σ_b = 100/20 = 5: σ_Δ = (1 − 1/100)^(−1/2) = 1.005037815.
    expect(defaultIndicatorNoise(100)).toBe(5);
    expect(updateNoiseMultiplier(1, 5)).toBeCloseTo(1.005037815, 9);
    expect(updateNoiseMultiplier(0, 5)).toBe(0);
  });

  it('refuses a bit noise too small to leave any budget for the update', () => {
    expect(() => updateNoiseMultiplier(1, 0.5)).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
  });
});
