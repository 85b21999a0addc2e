import { describe, expect, it } from 'vitest';
import type { CohortError } from '../../../core/protocol/errors.js';
import { PrivacyBudget } from '../../../coordinator/privacy/budget.js';
import { epsilonFor } from '../../../coordinator/privacy/rdp-accountant.js';

const step = { q: 0.1, sigma: 1.0 };

describe('PrivacyBudget', () => {
  it('reports (ε, δ) after every round, ε growing', () => {
    const budget = new PrivacyBudget({ delta: 1e-5 });
    expect(budget.report()).toMatchObject({ epsilon: 0, delta: 1e-5, rounds: 0 });
    let last = 0;
    for (let round = 1; round <= 5; round++) {
      const report = budget.record(step);
      expect(report.rounds).toBe(round);
      expect(report.delta).toBe(1e-5);
      expect(report.epsilon).toBeGreaterThan(last);
      last = report.epsilon;
    }
    expect(last).toBeCloseTo(epsilonFor({ ...step, steps: 5, delta: 1e-5 }).epsilon, 10);
  });

  it('stops a run BEFORE the round that would exceed the budget, and says so', () => {
    // Prepare: ε after 100 rounds of (0.1, 1.0) at δ = 1e-5 is 7.899 (the [opacus-run] row);
    // a budget of 7.9 therefore allows exactly 100 rounds.
    const budget = new PrivacyBudget({ delta: 1e-5, epsilonBudget: 7.9 });
    expect(budget.roundsLeft(step)).toBe(100);
    // Execute: the engine's loop.
    let round = 0;
    let stopped: CohortError | undefined;
    while (round < 1000) {
      try {
        budget.assertRoundFits(round + 1, step);
      } catch (err) {
        stopped = err as CohortError;
        break;
      }
      round++;
      budget.record(step);
    }
    // Assert
    expect(round).toBe(100);
    expect(budget.report().epsilon).toBeLessThanOrEqual(7.9);
    expect(stopped?.code).toBe('E_PRIVACY_BUDGET');
    expect(stopped?.message).toMatch(/^round 101 not started: privacy budget reached: another round would raise ε from 7\.899 to 7\.9\d+, above the budget ε = 7\.9 \(δ = 0\.00001\)$/);
  });

  it('check() looks ahead without spending', () => {
    const budget = new PrivacyBudget({ delta: 1e-5, epsilonBudget: 1 });
    const check = budget.check({ q: 1, sigma: 0.5 });
    expect(check.ok).toBe(false);
    expect(budget.report().rounds).toBe(0);
    expect(budget.roundsLeft({ q: 1, sigma: 0.5 })).toBe(0);
  });

  it('roundsLeft is exact: k rounds fit, k + 1 do not', () => {
    const budget = new PrivacyBudget({ delta: 1e-6, epsilonBudget: 3 });
    budget.record({ q: 0.02, sigma: 1.2, steps: 7 });
    const k = budget.roundsLeft({ q: 0.02, sigma: 1.2 });
    expect(k).toBeGreaterThan(0);
    expect(epsilonFor({ q: 0.02, sigma: 1.2, steps: 7 + k, delta: 1e-6 }).epsilon).toBeLessThanOrEqual(3);
    expect(epsilonFor({ q: 0.02, sigma: 1.2, steps: 8 + k, delta: 1e-6 }).epsilon).toBeGreaterThan(3);
  });

  it('resumes from a checkpointed history', () => {
    const original = new PrivacyBudget({ delta: 1e-5, epsilonBudget: 10 });
    for (let i = 0; i < 30; i++) original.record(step);
    const resumed = new PrivacyBudget({ delta: 1e-5, epsilonBudget: 10, history: original.history() });
    expect(resumed.report()).toEqual(original.report());
  });

  it('refuses a δ outside (0, 1) and a non-positive budget', () => {
    expect(() => new PrivacyBudget({ delta: 0 })).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
    expect(() => new PrivacyBudget({ delta: 1e-5, epsilonBudget: 0 })).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
  });
});
