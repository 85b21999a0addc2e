/**
 * Scores a round's scoring groups against a REFERENCE update: the update the coordinator makes
 * itself, by training the round's model on a sample of its own held-out data with the round's
 * local training settings (ModelHost.referenceUpdate). This is FLTrust's idea (Cao et al.,
 * "FLTrust: Byzantine-robust Federated Learning via Trust Bootstrapping", NDSS 2021), applied to
 * group sums because secure aggregation shows nothing finer:
 *
 *   score_g = (m_g · s) / (‖s‖ · max(‖m_g‖, ρ))      m_g = sum_g ÷ w_g,  ρ = median_h ‖m_h‖
 *
 * the group's mean delta, clipped to the round's median group norm, projected on the reference's
 * direction. Why each part:
 *
 * - the direction of an update trained on real data with the right labels: a random (noise)
 *   update is orthogonal to it in high dimension, and a label-flipping one, though large and
 *   partly along the held-out loss gradient (which made first-order scores rate it 3–7× an
 *   honest one), points away from it once the model has learned (BENCHMARKS.md, "Contribution
 *   signal");
 * - the clip: a large update cannot buy a high score with its norm, it scores its cosine;
 * - the floor ρ: a group diluted by zero updates keeps its direction but shrinks, and scores
 *   less in proportion, where a bare cosine would not notice freeloaders at all.
 *
 * Scores are raw (relative: false): the estimator divides them by its pooled median group
 * score, since cosines shrink as the model converges. Publishing the scores is enough for a
 * replay; the reference itself is not needed to recompute the rewards.
 */
import { CohortError } from '../../core/protocol/errors.js';
import { cosineSimilarity, type GroupScore, type GroupSum } from './group-score.js';

export interface ReferenceScoreInput {
  groups: ReadonlyArray<GroupSum>;
  /** The coordinator's own update for the round (trained on its held-out data). */
  reference: Float32Array;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const hasWeight = (g: GroupSum): boolean => Number.isFinite(g.totalWeight) && g.totalWeight > 0;

/** Every group's clipped projection on the reference (see the file comment), with its norm and cosine to the round's total. */
export function scoreGroupsByReference(input: ReferenceScoreInput): GroupScore[] {
  const { groups, reference } = input;
  groups.forEach((group, index) => {
    if (group.sum.length !== reference.length) throw new CohortError('E_STRATEGY_INPUT', `group ${index}: sum has ${group.sum.length} values, the reference ${reference.length}`);
    for (const v of group.sum) if (!Number.isFinite(v)) throw new CohortError('E_STRATEGY_INPUT', `group ${index}: sum holds NaN or Infinity`);
  });
  const referenceNorm = Math.sqrt(dot(reference, reference));
  if (!(referenceNorm > 0) || !Number.isFinite(referenceNorm)) throw new CohortError('E_INTERNAL', 'scoring groups: the reference update is zero or not finite');
  const total = new Float64Array(reference.length);
  for (const group of groups.filter(hasWeight)) for (let i = 0; i < total.length; i++) total[i]! += group.sum[i]!;
  // ‖m_g‖ = ‖sum_g‖ ÷ w_g; ρ over the weighted groups only.
  const norms = groups.map((g) => (hasWeight(g) ? Math.sqrt(dot(g.sum, g.sum)) / g.totalWeight : 0));
  const weightedNorms = norms.filter((_, i) => hasWeight(groups[i]!));
  const floor = weightedNorms.length > 0 ? median(weightedNorms) : 0;
  return groups.map((group, i): GroupScore => {
    const base = { members: [...group.members], totalWeight: group.totalWeight };
    const norm = norms[i]!;
    if (!hasWeight(group) || norm === 0) return { ...base, marginal: 0, norm, cosine: 0 };
    const projection = dot(group.sum, reference) / group.totalWeight / referenceNorm;
    return { ...base, marginal: projection / Math.max(norm, floor), norm, cosine: cosineSimilarity(group.sum, total) };
  });
}
