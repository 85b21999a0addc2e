// The `rewards.quality` rule: its schema (defaults, and E_CONFIG_INVALID naming the field for
// out-of-range values), the quality factor and the flag, and the adjusted amounts the reward
// split is given.
import { describe, expect, it } from 'vitest';
import type { WorkerQuality } from '../../../coordinator/contribution/quality-estimator.js';
import {
  QUALITY_RULE_DEFAULTS,
  excludedWorkers,
  isFlagged,
  parseQualityRule,
  qualityAdjustedContributions,
  qualityFactor,
  standardError,
  type QualitySource,
} from '../../../coordinator/contribution/quality-rule.js';

function errorOf(f: () => unknown): { code?: string; message?: string } | undefined {
  try {
    f();
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  return undefined;
}

const rule = parseQualityRule({});
/** Confidence for a standard error: 1 / (1 + se²). */
const confidenceFor = (se: number): number => 1 / (1 + se * se);

describe('parseQualityRule', () => {
  it('fills in the defaults', () => {
    expect(parseQualityRule(undefined)).toEqual(QUALITY_RULE_DEFAULTS);
    expect(parseQualityRule({ floor: 0.1 })).toEqual({ ...QUALITY_RULE_DEFAULTS, floor: 0.1 });
  });

  it.each([
    [{ floor: -0.1 }, 'rewards.quality.floor'],
    [{ floor: 1 }, 'rewards.quality.floor'],
    [{ minGroupSize: 2 }, 'rewards.quality.minGroupSize'],
    [{ minGroupSize: 4.5 }, 'rewards.quality.minGroupSize'],
    [{ flagConfidence: 0.4 }, 'rewards.quality.flagConfidence'],
    [{ flagConfidence: 1.01 }, 'rewards.quality.flagConfidence'],
    [{ referenceExamples: 5 }, 'rewards.quality.referenceExamples'],
    [{ referenceExamples: 10.5 }, 'rewards.quality.referenceExamples'],
    [{ margin: -1 }, 'rewards.quality.margin'],
    [{ flagBelow: 0.5, floor: 0.25 }, 'rewards.quality.flagBelow'],
    [{ excludeFlagged: 'yes' }, 'rewards.quality.excludeFlagged'],
    [{ flor: 0.2 }, 'rewards.quality.flor'],
  ])('refuses %j, naming %s', (input, field) => {
    const error = errorOf(() => parseQualityRule(input));
    expect(error?.code).toBe('E_CONFIG_INVALID');
    expect(error?.message?.startsWith(`${field}:`)).toBe(true);
  });

  it('says what it expected', () => {
    expect(errorOf(() => parseQualityRule({ minGroupSize: 2 }))?.message).toBe('rewards.quality.minGroupSize: expected an integer from 3 to 10000, got 2');
  });
});

describe('qualityFactor', () => {
  it('is (estimate − margin · se − floor) / (1 − floor), clamped to [0, 1]', () => {
    // se ½ → bound 1.2 − 0.75 = 0.45 → (0.45 − 0.25) / 0.75.
    expect(qualityFactor(1.2, confidenceFor(0.5), rule)).toBeCloseTo(0.2 / 0.75, 12);
    expect(qualityFactor(3, confidenceFor(0.1), rule)).toBe(1);
    expect(qualityFactor(1, 1, { ...rule, margin: 0 })).toBe(1);
  });

  it('is 0 at or below the floor, without evidence, and for nonsense', () => {
    expect(qualityFactor(0.999, confidenceFor(0.5), rule)).toBe(0); // bound 0.249
    expect(qualityFactor(-2, 0.99, rule)).toBe(0);
    expect(qualityFactor(5, 0, rule)).toBe(0);
    expect(qualityFactor(Number.NaN, 0.9, rule)).toBe(0);
    expect(qualityFactor(5, Number.NaN, rule)).toBe(0);
  });

  it('grows with the estimate and with confidence', () => {
    const factors = [0.6, 0.8, 1, 1.2].map((e) => qualityFactor(e, confidenceFor(0.2), rule));
    expect(factors).toEqual([...factors].sort((a, b) => a - b));
    expect(qualityFactor(1, confidenceFor(0.1), rule)).toBeGreaterThan(qualityFactor(1, confidenceFor(0.3), rule));
    expect(standardError(confidenceFor(0.3))).toBeCloseTo(0.3, 12);
    expect(standardError(0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('isFlagged', () => {
  it('flags only a confidently harmful worker', () => {
    expect(isFlagged({ estimate: -0.5, confidence: 0.9 }, rule)).toBe(true);
    expect(isFlagged({ estimate: -0.5, confidence: 0.5 }, rule)).toBe(false);
    expect(isFlagged({ estimate: 0.1, confidence: 0.99 }, rule)).toBe(false);
  });
});

describe('qualityAdjustedContributions', () => {
  const qualities: Record<string, WorkerQuality> = {
    good: { estimate: 2, confidence: confidenceFor(0.1), observations: 9 },
    half: { estimate: 1.2, confidence: confidenceFor(0.5), observations: 5 },
    harmful: { estimate: -1, confidence: 0.95, observations: 12 },
  };
  const source: QualitySource = { quality: (a) => qualities[a] ?? { estimate: 0, confidence: 0, observations: 0 } };

  it('scales capped declared work by the factor, in whole units, never below 0', () => {
    const adjusted = qualityAdjustedContributions(
      [{ address: 'good', amount: 500 }, { address: 'half', amount: 301 }, { address: 'harmful', amount: 600 }, { address: 'new', amount: 400 }, { address: 'good', amount: -3 }],
      source,
      rule,
    );
    // half: 301 × 0.2/0.75 = 80.27 → 80.
    expect(adjusted).toEqual([
      { address: 'good', amount: 500 },
      { address: 'half', amount: 80 },
      { address: 'harmful', amount: 0 },
      { address: 'new', amount: 0 },
      { address: 'good', amount: 0 },
    ]);
  });

  it('applies the per-worker cap before the factor, so over-declaring gains nothing', () => {
    const [capped] = qualityAdjustedContributions([{ address: 'half', amount: 10_000 }], source, rule, 303);
    expect(capped!.amount).toBe(80); // 303 × 0.2/0.75 = 80.8
  });

  it('lists flagged workers for exclusion only when the rule says so', () => {
    expect(excludedWorkers(Object.keys(qualities), source, rule)).toEqual(new Set(['harmful']));
    expect(excludedWorkers(Object.keys(qualities), source, { ...rule, excludeFlagged: false })).toEqual(new Set());
  });
});
