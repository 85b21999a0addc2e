// scoreGroups: exact norm, cosine and marginal on hand-made vectors and a quadratic loss; the
// weightless and single-group cases; G + 1 evaluations; and a small linear regression trained by
// honest groups, where a noise group and a zero group score below every honest one.
import { describe, expect, it } from 'vitest';
import { cosineSimilarity, relativeProgress, scoreGroups, scoreGroupsFirstOrder, scoreRound, type GroupSum } from '../../../coordinator/contribution/group-score.js';
import { seededRandom } from '../../../coordinator/simulate/fleet-spec.js';

/** A loss of ‖w − target‖² (accuracy unused), counting its calls. */
function quadratic(target: number[]): { evaluate: (w: Float32Array) => Promise<{ loss: number; accuracy: number }>; calls: () => number } {
  let calls = 0;
  return {
    evaluate: (w) => {
      calls++;
      return Promise.resolve({ loss: target.reduce((s, t, i) => s + (w[i]! - t) ** 2, 0), accuracy: 0 });
    },
    calls: () => calls,
  };
}

const group = (members: string[], sum: number[], totalWeight: number): GroupSum => ({ members, sum: Float32Array.from(sum), totalWeight });

describe('scoreGroups on hand-made vectors', () => {
  it('gives each group the norm of its mean delta, its cosine with the round sum, and its leave-one-out marginal', async () => {
    // A: mean [1, 0, 0]; B: mean [0, 3, 4]. Total sum [2, 3, 4], total weight 3, Δ = [2/3, 1, 4/3].
    const loss = quadratic([1, 1, 1]);
    const scores = await scoreGroups({ global: new Float32Array(3), groups: [group(['a1', 'a2'], [2, 0, 0], 2), group(['b1'], [0, 3, 4], 1)], evaluate: loss.evaluate });
    expect(scores.map((s) => s.norm)).toEqual([1, 5]);
    expect(scores[0]!.cosine).toBeCloseTo(2 / Math.sqrt(29), 12);
    expect(scores[1]!.cosine).toBeCloseTo(25 / (5 * Math.sqrt(29)), 12);
    // loss(Δ) = (1/3)² + 0 + (1/3)² = 2/9; without A, Δ = [0, 3, 4]: 1 + 4 + 9 = 14; without B, Δ = [1, 0, 0]: 0 + 1 + 1 = 2.
    expect(scores[0]!.marginal).toBeCloseTo(14 - 2 / 9, 5);
    expect(scores[1]!.marginal).toBeCloseTo(2 - 2 / 9, 5);
    expect(scores.map((s) => [s.members, s.totalWeight])).toEqual([[['a1', 'a2'], 2], [['b1'], 1]]);
    expect(loss.calls()).toBe(3);
  });

  it('scores a single group against the starting model: loss(global) − loss(global + delta)', async () => {
    const loss = quadratic([1, 1]);
    const [only] = await scoreGroups({ global: Float32Array.from([0, 0]), groups: [group(['a', 'b', 'c'], [3, 0], 3)], evaluate: loss.evaluate });
    // global: 1 + 1 = 2; global + [1, 0]: 0 + 1 = 1.
    expect(only!.marginal).toBeCloseTo(1, 12);
    expect(only!.cosine).toBeCloseTo(1, 12);
    expect(loss.calls()).toBe(2);
  });

  it('gives a weightless group zeros, leaves it out of the round, and evaluates it not at all', async () => {
    const loss = quadratic([1, 1]);
    const scores = await scoreGroups({
      global: Float32Array.from([0, 0]),
      groups: [group(['a'], [2, 0], 2), group(['idle'], [5, 5], 0), group(['b'], [0, 2], 2)],
      evaluate: loss.evaluate,
    });
    expect(scores[1]).toEqual({ members: ['idle'], marginal: 0, norm: 0, cosine: 0, totalWeight: 0 });
    // Δ = [0.5, 0.5] (the idle group's sum is not in it): loss 0.5; without a: [0, 1] → 1.
    expect(scores[0]!.marginal).toBeCloseTo(0.5, 6);
    expect(scores[0]!.cosine).toBeCloseTo(Math.SQRT1_2, 6);
    expect(loss.calls()).toBe(3);
  });

  it('evaluates nothing when no group has weight, and treats a zero sum as cosine 0', async () => {
    const loss = quadratic([1]);
    const scores = await scoreGroups({ global: Float32Array.from([0]), groups: [group(['a'], [0], 0)], evaluate: loss.evaluate });
    expect(scores).toEqual([{ members: ['a'], marginal: 0, norm: 0, cosine: 0, totalWeight: 0 }]);
    expect(loss.calls()).toBe(0);
    expect(cosineSimilarity([0, 0], [1, 2])).toBe(0);
    expect(cosineSimilarity([1, 2], [-2, -4])).toBeCloseTo(-1, 12);
  });

  it('refuses a sum of the wrong length or a non-finite loss', async () => {
    await expect(scoreGroups({ global: new Float32Array(2), groups: [group(['a'], [1], 1)], evaluate: quadratic([0, 0]).evaluate })).rejects.toMatchObject({ code: 'E_STRATEGY_INPUT' });
    const nan = (): Promise<{ loss: number; accuracy: number }> => Promise.resolve({ loss: Number.NaN, accuracy: 0 });
    await expect(scoreGroups({ global: new Float32Array(1), groups: [group(['a'], [1], 1)], evaluate: nan })).rejects.toMatchObject({ code: 'E_INTERNAL' });
  });
});

describe('scoreRound', () => {
  it('adds the round improvement loss(global) − loss(global + Δ) to the scores, in G + 2 evaluations', async () => {
    // Loss ‖w − (1, 1)‖²; from 0 the two groups' average step (0.5, 0.5) leaves 0.5 of the starting 2.
    const { evaluate, calls } = quadratic([1, 1]);
    const groups = [group(['a'], [1, 0], 1), group(['b'], [0, 1], 1)];
    const { scores, improvement } = await scoreRound({ global: new Float32Array(2), groups, evaluate });
    expect(improvement).toBeCloseTo(2 - 0.5, 12);
    expect(scores).toEqual(await scoreGroups({ global: new Float32Array(2), groups, evaluate: quadratic([1, 1]).evaluate }));
    expect(calls()).toBe(groups.length + 2);
  });
});

describe('relativeProgress', () => {
  it('puts the round average at 1, and gives nothing when the round did not improve', () => {
    const base = { members: [], norm: 0, cosine: 0 };
    const scores = [
      { ...base, marginal: 0.5, totalWeight: 1 },
      { ...base, marginal: -0.5, totalWeight: 1 },
      { ...base, marginal: 1, totalWeight: 0 },
    ];
    // ρ = 1 + (W − w)/w · marginal / improvement, W = 2: 1 ± 0.5; the weightless group 0.
    expect(relativeProgress(scores, 1)).toEqual([1.5, 0.5, 0]);
    expect(relativeProgress(scores, 0)).toBeUndefined();
    expect(relativeProgress(scores, -1)).toBeUndefined();
  });
});

describe('scoreGroups on a small linear regression', () => {
  const d = 8;
  const random = seededRandom(7);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const truth = Array.from({ length: d }, gauss);
  const xs = Array.from({ length: 400 }, () => Array.from({ length: d }, gauss));
  const ys = xs.map((x) => x.reduce((s, v, j) => s + v * truth[j]!, 0) + 0.1 * gauss());
  const predict = (w: ArrayLike<number>, i: number): number => xs[i]!.reduce((s, v, j) => s + v * w[j]!, 0);
  const mse = (w: ArrayLike<number>, rows: number[]): number => rows.reduce((s, i) => s + (predict(w, i) - ys[i]!) ** 2, 0) / rows.length;

  /** Five local gradient steps on a shard of 25 examples, from 0: the delta. */
  function honestDelta(shard: number): number[] {
    const rows = Array.from({ length: 25 }, (_, i) => shard * 25 + i);
    const w = new Array<number>(d).fill(0);
    for (let step = 0; step < 5; step++) {
      const grad = new Array<number>(d).fill(0);
      for (const i of rows) for (let j = 0; j < d; j++) grad[j]! += (2 * (predict(w, i) - ys[i]!) * xs[i]![j]!) / rows.length;
      for (let j = 0; j < d; j++) w[j]! -= 0.05 * grad[j]!;
    }
    return w;
  }
  const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  function delta(kind: 'honest' | 'noise' | 'zero', shard: number): number[] {
    const honest = honestDelta(shard);
    if (kind === 'zero') return honest.map(() => 0);
    if (kind === 'honest') return honest;
    const direction = Array.from({ length: d }, gauss);
    return direction.map((v) => (v * norm(honest)) / norm(direction)); // a random direction of an honest norm
  }

  it('scores a noise group and a zero group below both honest groups', async () => {
    const kinds = ['honest', 'honest', 'noise', 'zero'] as const;
    const groups = kinds.map((kind, g) => {
      const sum = new Float32Array(d);
      for (let m = 0; m < 3; m++) delta(kind, g * 3 + m).forEach((v, j) => (sum[j]! += 25 * v));
      return { members: [0, 1, 2].map((m) => `${kind}-${g}-${m}`), sum, totalWeight: 75 };
    });
    const heldOut = Array.from({ length: 100 }, (_, i) => 300 + i);
    let calls = 0;
    const evaluate = (w: Float32Array): Promise<{ loss: number; accuracy: number }> => {
      calls++;
      return Promise.resolve({ loss: mse(w, heldOut), accuracy: 0 });
    };
    const global = new Float32Array(d);
    const scores = await scoreGroups({ global, groups, evaluate });
    expect(calls).toBe(5);
    const [h1, h2, noise, zero] = scores.map((s) => s.marginal);
    expect(Math.min(h1!, h2!)).toBeGreaterThan(0);
    expect(noise).toBeLessThan(0);
    expect(zero).toBeLessThan(0);
    expect(scores[3]!.norm).toBe(0);

    // On the absolute scale the zero group is near 0 and the honest ones above the round's average.
    const full = new Float32Array(d);
    for (const g of groups) g.sum.forEach((v, j) => (full[j]! += v / 300));
    const relative = relativeProgress(scores, mse(global, heldOut) - mse(full, heldOut))!;
    expect(Math.min(relative[0]!, relative[1]!)).toBeGreaterThan(1);
    expect(Math.abs(relative[3]!)).toBeLessThan(0.5);
  });
});

describe('scoreGroupsFirstOrder', () => {
  it('scores −∇L · mean delta, linear in the members, and the progress ratio to the round', () => {
    // ∇L = [−1, −2, 0]: A's mean [1, 0, 0] → 1; B's mean [0, 3, 4] → 6; Δ = [2/3, 1, 4/3] → 2/3 + 2 = 8/3.
    const gradient = Float32Array.from([-1, -2, 0]);
    const { scores, improvement, progress } = scoreGroupsFirstOrder({ global: new Float32Array(3), groups: [group(['a1', 'a2'], [2, 0, 0], 2), group(['b1'], [0, 3, 4], 1)], gradient });
    expect(scores.map((s) => s.marginal)).toEqual([1, 6]);
    expect(scores.map((s) => s.norm)).toEqual([1, 5]);
    expect(improvement).toBeCloseTo(8 / 3, 12);
    expect(progress![0]).toBeCloseTo(3 / 8, 12);
    expect(progress![1]).toBeCloseTo(18 / 8, 12);
    // The weighted mean of the progress ratios is 1: the round's average.
    expect((2 * progress![0]! + progress![1]!) / 3).toBeCloseTo(1, 12);
  });

  it('gives a zero group 0, a weightless one zeros, and no progress when the round does not descend', () => {
    const gradient = Float32Array.from([1, 0]);
    const ascent = scoreGroupsFirstOrder({ global: new Float32Array(2), groups: [group(['a'], [1, 0], 1), group(['z'], [0, 0], 1), group(['w'], [5, 5], 0)], gradient });
    expect(ascent.scores.map((s) => s.marginal)).toEqual([-1, -0, 0]);
    expect(ascent.improvement).toBeCloseTo(-0.5, 12);
    expect(ascent.progress).toBeUndefined();
    expect(() => scoreGroupsFirstOrder({ global: new Float32Array(2), groups: [], gradient: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'E_STRATEGY_INPUT' }));
  });
});
