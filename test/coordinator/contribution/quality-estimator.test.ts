// The quality estimator: its conjugate-gradient fit against a direct solve, what it observes
// (group sizes, retried rounds, the pooled scale, relativeProgress scores), how confidence moves
// with observations and residual, and that its state survives a JSON round trip and resumes.
import { describe, expect, it } from 'vitest';
import type { GroupScore } from '../../../coordinator/contribution/group-score.js';
import { conjugateGradient, QualityEstimator, type Row } from '../../../coordinator/contribution/quality-estimator.js';
import { seededRandom } from '../../../coordinator/simulate/fleet-spec.js';

/** (AᵀA + λI) x = Aᵀy by Gaussian elimination, for a handful of workers. */
function directRidge(rows: Row[], workers: number, lambda: number): number[] {
  const m = Array.from({ length: workers }, (_, i) => Array.from({ length: workers + 1 }, (_, j) => (i === j ? lambda : 0)));
  for (const row of rows) {
    const a = 1 / row.members.length;
    for (const u of row.members) {
      for (const v of row.members) m[u]![v]! += a * a;
      m[u]![workers]! += a * row.score;
    }
  }
  for (let c = 0; c < workers; c++) {
    for (let r = c + 1; r < workers; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= workers; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(workers).fill(0);
  for (let r = workers - 1; r >= 0; r--) {
    let s = m[r]![workers]!;
    for (let k = r + 1; k < workers; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('conjugateGradient', () => {
  it('solves the ridge normal equations as a direct solve does', () => {
    const random = seededRandom(3);
    const rows: Row[] = Array.from({ length: 30 }, () => ({
      members: [...new Set(Array.from({ length: 4 }, () => Math.floor(random() * 12)))],
      score: random() * 2 - 0.5,
    }));
    const b = new Float64Array(12);
    for (const row of rows) for (const u of row.members) b[u]! += row.score / row.members.length;
    const fitted = conjugateGradient(rows, 0.04, b);
    directRidge(rows, 12, 0.04).forEach((v, i) => expect(fitted[i]).toBeCloseTo(v, 8));
  });
});

describe('QualityEstimator', () => {
  it('matches the direct ridge fit of the normalised scores', () => {
    const estimator = new QualityEstimator({ minGroupSize: 2, scaleWindow: 1 });
    // One round, scores 1, 2, 3 → median 2 → normalised 0.5, 1, 1.5.
    estimator.observeRound(1, [{ members: ['a', 'b'], score: 1 }, { members: ['b', 'c'], score: 2 }, { members: ['c', 'a'], score: 3 }]);
    const expected = directRidge([{ members: [0, 1], score: 0.5 }, { members: [1, 2], score: 1 }, { members: [2, 0], score: 1.5 }], 3, 1 / 25);
    ['a', 'b', 'c'].forEach((w, i) => expect(estimator.quality(w).estimate).toBeCloseTo(expected[i]!, 8));
    expect(estimator.quality('A').observations).toBe(2);
  });

  it('does not observe groups below minGroupSize, nor rounds with nothing to divide by', () => {
    const estimator = new QualityEstimator({ minGroupSize: 5 });
    const summary = estimator.observeRound(1, [{ members: names('s', 4), score: 1 }, { members: names('b', 5), score: 1 }, { members: [...names('d', 4), 'd0'], score: 1 }]);
    expect(summary).toMatchObject({ used: 1, skipped: 2 });
    expect(estimator.quality('s0')).toEqual({ estimate: 0, confidence: 0, observations: 0 });
    expect(estimator.quality('b0').observations).toBe(1);
    // A first round of zeros has no scale; after a scored round, zeros are an observation like any other.
    const fresh = new QualityEstimator();
    expect(fresh.observeRound(1, [{ members: names('z', 5), score: 0 }])).toEqual({ round: 1, used: 0, skipped: 1, scale: 0 });
    expect(fresh.quality('z0').observations).toBe(0);
    expect(estimator.observeRound(2, [{ members: names('z', 5), score: 0 }])).toMatchObject({ used: 1, scale: 0.5 });
  });

  it('replaces a round observed twice (a retried round) instead of counting it again', () => {
    const estimator = new QualityEstimator();
    estimator.observeRound(1, [{ members: names('w', 5), score: 1 }]);
    estimator.observeRound(1, [{ members: names('w', 5), score: 1 }]);
    expect(estimator.quality('w0').observations).toBe(1);
  });

  it('divides by the median |score| pooled over the last scaleWindow rounds, or by the caller\'s scale', () => {
    const estimator = new QualityEstimator({ minGroupSize: 1, scaleWindow: 2 });
    expect(estimator.observeRound(1, [{ members: ['a'], score: 1 }, { members: ['b'], score: 3 }]).scale).toBe(2);
    // Pooled with round 1: |1|, |3|, |10|, |20| → median 6.5; round 1 falls out of a 2-round window at round 3.
    expect(estimator.observeRound(2, [{ members: ['a'], score: 10 }, { members: ['b'], score: 20 }]).scale).toBe(6.5);
    expect(estimator.observeRound(3, [{ members: ['a'], score: 4 }]).scale).toBe(10);
    expect(estimator.observeRound(4, [{ members: ['a'], score: 4 }], 1).scale).toBe(1);
  });

  it('takes scoreGroups output on the relativeProgress scale when the round\'s improvement is known', () => {
    const score = (members: string[], marginal: number): GroupScore => ({ members, marginal, norm: 1, cosine: 1, totalWeight: 5 });
    const estimator = new QualityEstimator({ minGroupSize: 5 });
    // G = 2, improvement 1: ρ = 1 ± 0.25 (scale 1); without the improvement, the marginals ±0.25 over their median 0.25.
    const withImprovement = estimator.observeScores(1, [score(names('a', 5), 0.25), score(names('b', 5), -0.25)], 1);
    expect(withImprovement.scale).toBe(1);
    expect(estimator.toJSON().rounds[0]!.groups.map((g) => g.score)).toEqual([1.25, 0.75]);
    // Round 1's ρ are another unit: they do not pool into round 2's default scale.
    const relative = estimator.observeScores(2, [score(names('a', 5), 0.25), score(names('b', 5), -0.25)]);
    expect(relative.scale).toBe(0.25);
  });

  it('grows confidence with observations, and lowers it when the fit leaves larger residuals', () => {
    const run = (noise: number): { early: number; late: number } => {
      const random = seededRandom(11);
      const estimator = new QualityEstimator();
      const workers = names('w', 40);
      let early = 0;
      for (let round = 1; round <= 30; round++) {
        const order = [...workers].sort(() => random() - 0.5);
        const groups = [0, 1, 2, 3].map((g) => order.slice(g * 5, g * 5 + 5));
        estimator.observeRound(round, groups.map((members) => ({ members, score: 1 + noise * (random() * 2 - 1) })));
        if (round === 3) early = mean([...estimator.qualities().values()].filter((q) => q.observations > 0).map((q) => q.confidence));
      }
      return { early, late: mean([...estimator.qualities().values()].map((q) => q.confidence)) };
    };
    const quiet = run(0.05);
    const noisy = run(1.5);
    expect(quiet.late).toBeGreaterThan(quiet.early);
    expect(noisy.late).toBeLessThan(quiet.late);
    for (const c of [quiet.early, quiet.late, noisy.late]) {
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThan(1);
    }
  });

  it('round-trips its state through JSON and resumes as if never stopped', () => {
    const random = seededRandom(5);
    const workers = names('0xAbC', 30);
    const round = (r: number): Array<{ members: string[]; score: number }> => {
      const order = [...workers].sort(() => random() - 0.5);
      return [0, 1, 2].map((g) => ({ members: order.slice(g * 5, g * 5 + 5), score: r % 3 === g ? -0.5 : 1 + random() }));
    };
    const original = new QualityEstimator();
    for (let r = 1; r <= 6; r++) original.observeRound(r, round(r));
    const text = JSON.stringify(original.toJSON());
    const resumed = QualityEstimator.fromJSON(JSON.parse(text));
    expect(JSON.stringify(resumed.toJSON())).toBe(text);
    const next = round(7);
    original.observeRound(7, next);
    resumed.observeRound(7, next);
    for (const [worker, q] of original.qualities()) {
      const r = resumed.quality(worker);
      expect(r.observations).toBe(q.observations);
      expect(r.estimate).toBeCloseTo(q.estimate, 9);
      expect(r.confidence).toBeCloseTo(q.confidence, 9);
    }
  });

  it('refuses a state that does not fit (E_STORE)', () => {
    const state = new QualityEstimator().toJSON();
    expect(errorOf(() => QualityEstimator.fromJSON({ ...state, version: 2 }))).toMatchObject({ code: 'E_STORE' });
    const unknownWorker = { ...state, rounds: [{ round: 1, scale: 1, pooled: true, groups: [{ members: [3], score: 1, raw: 1 }] }] };
    expect(errorOf(() => QualityEstimator.fromJSON(unknownWorker))).toMatchObject({ code: 'E_STORE', message: expect.stringMatching(/unknown worker/) });
    expect(errorOf(() => QualityEstimator.fromJSON({ ...state, workers: ['a'], estimates: [] }))).toMatchObject({ code: 'E_STORE' });
  });
});

function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}
