import { describe, expect, it } from 'vitest';
import { l2Norm } from '../../../core/privacy/clip.js';
import { privatizeUpdate } from '../../../core/privacy/client-dp.js';
import { privacyConfigSchema, resolvePrivacy, type DpRunContext } from '../../../coordinator/privacy/dp-config.js';
import { finishDpRound, planDpRound, suggestedSecAggClipRange } from '../../../coordinator/privacy/dp-round.js';
import { FedAvg } from '../../../coordinator/strategy/fedavg.js';
import { moments, seededSampler } from '../../core/privacy/seeded.js';

const ctx: DpRunContext = { clientsPerRound: 20, population: 200, secureAggregation: true, strategy: { name: 'fedavg', needsIndividualUpdates: false } };
const resolved = (input: unknown, c: DpRunContext = ctx) => resolvePrivacy(privacyConfigSchema.parse(input), c);

describe('planDpRound', () => {
  it('central: workers only clip; the coordinator adds σC to the sum', () => {
    const plan = planDpRound(resolved({ noiseMultiplier: 1.1, clipNorm: 2 }), 2);
    expect(plan.client).toEqual({ clipNorm: 2, noiseStd: 0 });
    expect(plan.serverNoiseStd).toBeCloseTo(2.2, 12);
    expect(plan.accounting).toEqual({ q: 0.1, sigma: 1.1, steps: 1 });
    expect(plan.extraValues).toBe(0);
  });

  it('distributed: each worker adds σC/√t; the coordinator adds nothing', () => {
    const plan = planDpRound(resolved({ noise: 'distributed', noiseMultiplier: 1, clipNorm: 0.5 }), 0.5, 16);
    expect(plan.client.noiseStd).toBeCloseTo(0.125, 12);
    expect(plan.serverNoiseStd).toBe(0);
  });

  it('adaptive: the bit travels as one extra value and the update noise is σ_Δ·C', () => {
    // 20 per round → σ_b = 1; z = 1 → σ_Δ = (1 − 1/4)^(−1/2) = 1.154700538.
    const central = planDpRound(resolved({ clipping: 'adaptive', noiseMultiplier: 1 }), 1);
    expect(central.extraValues).toBe(1);
    expect(central.client.adaptive).toEqual({ indicatorNoiseStd: 0 });
    expect(central.serverIndicatorNoiseStd).toBe(1);
    expect(central.serverNoiseStd).toBeCloseTo(1.154700538, 9);
    expect(central.accounting.sigma).toBe(1);
    const distributed = planDpRound(resolved({ clipping: 'adaptive', noise: 'distributed', noiseMultiplier: 1 }), 1, 4);
    expect(distributed.client.adaptive).toEqual({ indicatorNoiseStd: 0.5 });
    expect(distributed.serverIndicatorNoiseStd).toBe(0);
  });

  it('suggests a SecAgg coordinate range that leaves noised values unclipped', () => {
    const plan = planDpRound(resolved({ noise: 'distributed', noiseMultiplier: 1 }), 1, 16);
    expect(suggestedSecAggClipRange(plan)).toBeCloseTo(1 + 6 * 0.25, 12);
  });
});

describe('finishDpRound', () => {
  it('reads the bit sum, drops it, and moves C (hand-computed)', () => {
    // Prepare: noise-free adaptive round, C = 2, γ = 0.5, η_C = 0.2; 4 workers, 3 unclipped:
    // Σ(b − ½) = 1, so b̄ = 1/4 + ½ = 0.75 and C' = 2·e^(−0.2·0.25) = 1.902458849.
    const privacy = resolved({ clipping: 'adaptive', noiseMultiplier: 0 });
    const plan = planDpRound(privacy, 2);
    const sum = Float32Array.from([4, -2, 1]);
    // Execute
    const done = finishDpRound({ weightedDeltaSum: sum, totalWeight: 4, contributors: 4 }, plan, privacy);
    // Assert
    expect(Array.from(done.aggregate.weightedDeltaSum)).toEqual([4, -2]);
    expect(done.unclippedFraction).toBe(0.75);
    expect(done.nextClipNorm).toBeCloseTo(1.902458849, 9);
  });

  it('adds the central noise to the sum', () => {
    const privacy = resolved({ noiseMultiplier: 1.5, clipNorm: 2 });
    const plan = planDpRound(privacy, 2);
    const done = finishDpRound({ weightedDeltaSum: new Float32Array(50_000), totalWeight: 3, contributors: 3 }, plan, privacy, seededSampler(5));
    expect(moments(done.aggregate.weightedDeltaSum).std).toBeCloseTo(3, 1);
    expect(done.nextClipNorm).toBe(2);
  });

  it('refuses example-weighted sums (C would not bound a worker’s share)', () => {
    const privacy = resolved({});
    const plan = planDpRound(privacy, 1);
    expect(() => finishDpRound({ weightedDeltaSum: new Float32Array(2), totalWeight: 600, contributors: 3 }, plan, privacy)).toThrow(
      expect.objectContaining({ code: 'E_CONFIG_INVALID' }),
    );
  });

  it('leaves an empty round alone', () => {
    const privacy = resolved({ clipping: 'adaptive', noiseMultiplier: 1, indicatorNoise: 5 });
    const plan = planDpRound(privacy, 1.5);
    const done = finishDpRound({ weightedDeltaSum: new Float32Array(3), totalWeight: 0, contributors: 0 }, plan, privacy);
    expect(done.aggregate.weightedDeltaSum).toHaveLength(2);
    expect(done.nextClipNorm).toBe(1.5);
  });
});

describe('a whole distributed-noise round', () => {
  it('clip → worker shares → sum → FedAvg: the sum carries exactly the target noise σ_Δ·C', () => {
    // Prepare: 20 workers, t = 20, σ = 1, adaptive clipping with σ_b = 2 (so σ_Δ = (1 − 1/16)^(−1/2)).
    const privacy = resolved({ clipping: 'adaptive', noise: 'distributed', noiseMultiplier: 1, indicatorNoise: 2, clipNorm: 1 });
    const plan = planDpRound(privacy, 1, 20);
    const d = 20_000;
    const sampler = seededSampler(9);
    const deltas = Array.from({ length: 20 }, (_, w) => Float32Array.from({ length: d }, () => (w < 5 ? 0.05 : 0.002) * sampler.standard()));
    const clippedSum = new Float64Array(d);
    const sum = new Float32Array(d + 1);
    // Execute: every worker privatizes; the secure sum adds them with weight 1.
    for (const delta of deltas) {
      const { update } = privatizeUpdate(delta, plan.client, sampler);
      expect(update).toHaveLength(d + 1);
      for (let i = 0; i <= d; i++) sum[i]! += update[i]!;
      const scale = Math.min(1, 1 / l2Norm(delta));
      for (let i = 0; i < d; i++) clippedSum[i]! += delta[i]! * scale;
    }
    const done = finishDpRound({ weightedDeltaSum: sum, totalWeight: 20, contributors: 20 }, plan, privacy, sampler);
    const next = new FedAvg().aggregate(1, new Float32Array(d), done.aggregate);
    // Assert: the noise left in the sum has std σ_Δ·C = 1.0328; the mean update is the sum / 20.
    const noise = Float64Array.from(done.aggregate.weightedDeltaSum, (v, i) => v - clippedSum[i]!);
    expect(moments(noise).std / privacy.updateNoiseMultiplier).toBeCloseTo(1, 1);
    expect(next[0]).toBeCloseTo(done.aggregate.weightedDeltaSum[0]! / 20, 6);
    // Workers 0–4 have norm ≈ 7 (clipped), 5–19 norm ≈ 0.28 (not): b̄ ≈ 15/20 up to the bit noise.
    expect(done.unclippedFraction!).toBeGreaterThan(0.75 - 0.5);
    expect(done.unclippedFraction!).toBeLessThan(0.75 + 0.5);
    expect(done.nextClipNorm).toBeLessThan(1.1);
  });
});
