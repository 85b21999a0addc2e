/**
 * Scoring groups against the coordinator's reference update (reference-score.ts): a group's mean
 * delta, clipped to the round's median group norm, projected on the reference's direction. So a
 * group as good as the reference scores its cosine, a random direction about 0, a large update
 * no more than its cosine, and a group diluted by zero updates less in proportion.
 */
import { describe, expect, it } from 'vitest';
import { scoreGroupsByReference } from '../../../coordinator/contribution/reference-score.js';
import type { GroupSum } from '../../../coordinator/contribution/group-score.js';
import { createRandom, normal } from '../../../core/data/random.js';

const N = 4_000;
const rng = createRandom(11);
const gaussian = (scale = 1) => Float32Array.from({ length: N }, () => normal(rng) * scale);
const reference = gaussian();
/** An honest member: the reference's direction plus its own data's share (cosine ≈ 0.45). */
const honest = () => reference.map((r, i) => r + 2 * Math.sin(i * 0.37 + rng()) * normal(rng));
const sumOf = (members: Float32Array[], names: string[]): GroupSum => {
  const sum = new Float32Array(N);
  for (const m of members) m.forEach((v, i) => (sum[i]! += v));
  return { members: names, sum, totalWeight: members.length };
};

describe('scoreGroupsByReference', () => {
  it('scores honest groups highest, then zero-diluted ones, with noise and large off-direction updates near 0', () => {
    const groups = [
      sumOf([honest(), honest(), honest(), honest(), honest()], ['h1', 'h2', 'h3', 'h4', 'h5']),
      sumOf([honest(), honest(), honest(), new Float32Array(N), new Float32Array(N)], ['h6', 'h7', 'h8', 'z1', 'z2']),
      sumOf([honest(), honest(), honest(), honest(), honest()], ['h9', 'h10', 'h11', 'h12', 'h13']),
      sumOf([gaussian(3), gaussian(3), gaussian(3), gaussian(3), gaussian(3)], ['n1', 'n2', 'n3', 'n4', 'n5']),
      // Ten times an honest update's norm, mostly off the reference's direction.
      sumOf([reference.map((r) => 0.3 * r).map((v, i) => v + gaussian(20)[i]!)], ['big']),
    ];
    const scores = scoreGroupsByReference({ groups, reference });
    const [clean, diluted, clean2, noise, big] = scores.map((s) => s.marginal) as [number, number, number, number, number];
    expect(clean).toBeGreaterThan(0.3);
    expect(clean2).toBeGreaterThan(0.3);
    // 3 honest of 5: about 3/5 of a clean group's score (a bare cosine would not see the zeros).
    expect(diluted / clean).toBeGreaterThan(0.45);
    expect(diluted / clean).toBeLessThan(0.75);
    expect(Math.abs(noise)).toBeLessThan(0.05);
    // Its norm buys nothing: it scores its cosine (~0.015), far below an honest group.
    expect(big).toBeLessThan(0.05);
    expect(scores[0]!.norm).toBeGreaterThan(0);
    expect(scores[0]!.cosine).toBeGreaterThan(0);
  });

  it('scores a weightless group 0, and refuses a reference that is zero or a sum of the wrong length', () => {
    const weightless: GroupSum = { members: ['a', 'b', 'c'], sum: new Float32Array(N), totalWeight: 0 };
    expect(scoreGroupsByReference({ groups: [weightless, sumOf([honest()], ['d'])], reference })[0]!.marginal).toBe(0);
    expect(() => scoreGroupsByReference({ groups: [weightless], reference: new Float32Array(N) })).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
    expect(() => scoreGroupsByReference({ groups: [sumOf([honest()], ['e'])], reference: new Float32Array(3).fill(1) })).toThrow(expect.objectContaining({ code: 'E_STRATEGY_INPUT' }));
  });
});
