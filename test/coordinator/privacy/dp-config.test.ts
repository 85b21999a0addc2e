import { describe, expect, it } from 'vitest';
import { dpIncompatibility, privacyConfigSchema, resolvePrivacy, type DpRunContext } from '../../../coordinator/privacy/dp-config.js';

const fedavg = { name: 'fedavg', needsIndividualUpdates: false };
const ctx: DpRunContext = { clientsPerRound: 10, population: 100, secureAggregation: true, strategy: fedavg };
const parse = (input: unknown) => privacyConfigSchema.parse(input);
const paths = (privacy: unknown, c: DpRunContext = ctx): string[] => dpIncompatibility(parse(privacy), c).map((i) => i.path);

describe('privacy block schema', () => {
  it('fills the documented defaults', () => {
    expect(parse({})).toEqual({
      clipping: 'fixed',
      clipNorm: 1,
      targetQuantile: 0.5,
      clipLr: 0.2,
      noiseMultiplier: 1,
      noise: 'central',
      delta: 1e-5,
    });
  });

  it('refuses unknown keys and out-of-range values, naming the field', () => {
    const typo = privacyConfigSchema.safeParse({ noiseMultiplyer: 1 });
    expect(typo.success).toBe(false);
    const delta = privacyConfigSchema.safeParse({ delta: 1 });
    expect(delta.success ? [] : delta.error.issues[0]?.path).toEqual(['delta']);
    expect(privacyConfigSchema.safeParse({ targetQuantile: 1 }).success).toBe(false);
    expect(privacyConfigSchema.safeParse({ clipNorm: 0 }).success).toBe(false);
  });
});

describe('dpIncompatibility', () => {
  it('accepts central noise with or without secure aggregation (the coordinator noises the sum)', () => {
    expect(paths({ noise: 'central' })).toEqual([]);
    expect(paths({ noise: 'central' }, { ...ctx, secureAggregation: false })).toEqual([]);
  });

  it('accepts distributed noise under secure aggregation and refuses it without', () => {
    expect(paths({ noise: 'distributed' })).toEqual([]);
    expect(paths({ noise: 'distributed' }, { ...ctx, secureAggregation: false })).toEqual(['privacy.noise']);
  });

  it('refuses strategies that aggregate individual updates', () => {
    const issues = dpIncompatibility(parse({}), { ...ctx, secureAggregation: false, strategy: { name: 'krum', needsIndividualUpdates: true } });
    expect(issues.map((i) => i.path)).toEqual(['strategy.name']);
    expect(issues[0]!.message).toContain('"krum"');
  });

  it('needs a sampling rate: explicit, or clientsPerRound ÷ population', () => {
    const { population: _, ...noPopulation } = ctx;
    expect(paths({}, noPopulation)).toEqual(['privacy.samplingRate']);
    expect(paths({ samplingRate: 0.05 }, noPopulation)).toEqual([]);
    expect(paths({}, { ...ctx, population: 5 })).toContain('privacy.samplingRate');
  });

  it('wants δ below 1/population', () => {
    expect(paths({ delta: 0.01 })).toEqual(['privacy.delta']);
  });

  it('refuses an ε budget with no noise', () => {
    expect(paths({ noiseMultiplier: 0, epsilonBudget: 5 })).toEqual(['privacy.noiseMultiplier']);
  });

  it('refuses adaptive clipping whose bit noise cannot be afforded (σ_b ≤ z/2)', () => {
    // clientsPerRound 10 → default σ_b = 0.5, not above z/2 = 0.5.
    expect(paths({ clipping: 'adaptive', noiseMultiplier: 1 })).toEqual(['privacy.indicatorNoise']);
    expect(paths({ clipping: 'adaptive', noiseMultiplier: 1, indicatorNoise: 2 })).toEqual([]);
  });
});

describe('resolvePrivacy', () => {
  it('works out q, σ_b and σ_Δ', () => {
    const fixed = resolvePrivacy(parse({ noiseMultiplier: 1.1 }), ctx);
    expect(fixed.samplingRate).toBeCloseTo(0.1, 12);
    expect(fixed.updateNoiseMultiplier).toBe(1.1);
    // 100 per round: σ_b = 5, σ_Δ = (1 − 1/100)^(−1/2).
    const adaptive = resolvePrivacy(parse({ clipping: 'adaptive', noiseMultiplier: 1 }), { ...ctx, clientsPerRound: 100, population: 1000 });
    expect(adaptive.indicatorNoise).toBe(5);
    expect(adaptive.updateNoiseMultiplier).toBeCloseTo(1.005037815, 9);
  });

  it('reports every issue at once as E_CONFIG_INVALID', () => {
    const run = (): unknown => resolvePrivacy(parse({ noise: 'distributed', delta: 0.5 }), { ...ctx, secureAggregation: false });
    expect(run).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID', message: expect.stringMatching(/privacy\.noise: .*; privacy\.delta: /) }));
  });
});
