/**
 * Scores the groups of one secure-aggregation round by what each did for the model. Secure
 * aggregation (SecAgg+) shows the coordinator each group's sum Σ w·x and total weight Σ w, never
 * one worker's update, so the finest quality signal it may compute is per group: this file turns
 * the G group sums into G scores, and quality-estimator.ts turns many rounds of group scores into
 * per-worker estimates.
 *
 * The score is the leave-one-group-out improvement, Shapley's "marginal contribution" restricted
 * to one coalition per group (the cheap end of GTG-Shapley, Liu et al. 2022, ACM TIST, which also
 * rebuilds models from the round's updates instead of retraining):
 *
 *   marginal_g = loss(global + Δ_{−g}) − loss(global + Δ)        (positive: the group helps)
 *   Δ = Σ_h sum_h / Σ_h w_h,   Δ_{−g} = the same over every group but g (0 when no other is left)
 *
 * so a round costs G + 1 evaluations: the full update once, then one per group left out.
 *
 * To first order the marginal is relative to the round's average group: with m_g = sum_g / w_g,
 * Δ − Δ_{−g} = w_g / (W − w_g) · (m_g − Δ), so a group exactly as good as the round's average
 * scores 0. `relativeProgress` undoes that when the round's own improvement is known, giving an
 * absolute scale (1: as good as the round's average, 0: no progress, < 0: harmful) that the
 * estimator's "0 earns nothing" rule needs.
 *
 * A group with no weight (totalWeight ≤ 0 or not finite) moved nothing and is not in Δ; it scores
 * all zeros without an evaluation.
 */
import { CohortError } from '../../core/protocol/errors.js';

/** One group as secure aggregation reveals it. */
export interface GroupSum {
  readonly members: readonly string[];
  /** Σ w·x over the members (x: each member's model delta). */
  readonly sum: Float32Array;
  /** Σ w over the members. */
  readonly totalWeight: number;
}

export interface GroupScore {
  members: string[];
  /** loss without the group − loss with it: positive when the group helps. */
  marginal: number;
  /** L2 norm of the group's mean delta, sum ÷ totalWeight (0 for a weightless group). */
  norm: number;
  /** Cosine similarity of the group's sum and the round's total sum (0 if either is zero). */
  cosine: number;
  totalWeight: number;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
}

export interface ScoreGroupsInput {
  /** The model the round started from. */
  global: Float32Array;
  groups: ReadonlyArray<GroupSum>;
  /** Loss (and accuracy) of a candidate model on the coordinator's held-out data. */
  evaluate(weights: Float32Array): Promise<Evaluation>;
}

function hasWeight(group: Pick<GroupSum, 'totalWeight'>): boolean {
  return Number.isFinite(group.totalWeight) && group.totalWeight > 0;
}

function l2(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const norms = l2(a) * l2(b);
  if (norms === 0 || !Number.isFinite(norms)) return 0;
  return Math.max(-1, Math.min(1, dot(a, b) / norms));
}

function checkShapes(input: Pick<ScoreGroupsInput, 'global' | 'groups'>): void {
  input.groups.forEach((group, index) => {
    if (group.sum.length !== input.global.length) {
      throw new CohortError('E_STRATEGY_INPUT', `group ${index}: sum has ${group.sum.length} values, the model ${input.global.length}`);
    }
    for (const v of group.sum) if (!Number.isFinite(v)) throw new CohortError('E_STRATEGY_INPUT', `group ${index}: sum holds NaN or Infinity`);
  });
}

/** global + sum ÷ weight, in Float32 as the model is; the global itself when weight is 0. */
function candidate(global: Float32Array, sum: Float64Array, weight: number): Float32Array {
  const out = new Float32Array(global);
  if (weight <= 0) return out;
  for (let i = 0; i < out.length; i++) out[i] = global[i]! + sum[i]! / weight;
  return out;
}

async function lossOf(evaluate: ScoreGroupsInput['evaluate'], weights: Float32Array, what: string): Promise<number> {
  const { loss } = await evaluate(weights);
  if (!Number.isFinite(loss)) throw new CohortError('E_INTERNAL', `scoring groups: the loss of ${what} is ${loss}, not a finite number`);
  return loss;
}

/**
 * Scores every group of one round (see the file comment). Evaluations run one after another, at
 * most G + 1 of them: the full update, then each weighted group left out.
 */
export async function scoreGroups(input: ScoreGroupsInput): Promise<GroupScore[]> {
  return (await scoreWithFullLoss(input)).scores;
}

/**
 * scoreGroups, plus the round's improvement loss(global) − loss(global + Δ) that relativeProgress
 * scales by, measured on the same full-update model the scores used: G + 2 evaluations in all.
 */
export async function scoreRound(input: ScoreGroupsInput): Promise<{ scores: GroupScore[]; improvement: number }> {
  const { scores, fullLoss } = await scoreWithFullLoss(input);
  const start = await lossOf(input.evaluate, input.global, 'the round\'s starting model');
  return { scores, improvement: start - fullLoss };
}

async function scoreWithFullLoss(input: ScoreGroupsInput): Promise<{ scores: GroupScore[]; fullLoss: number }> {
  checkShapes(input);
  const { global, groups, evaluate } = input;
  const weighted = groups.filter(hasWeight);
  const total = new Float64Array(global.length);
  for (const group of weighted) for (let i = 0; i < total.length; i++) total[i]! += group.sum[i]!;
  const fullLoss = weighted.length === 0 ? 0 : await lossOf(evaluate, candidate(global, total, sumOfWeights(weighted)), 'the full update');

  const scores: GroupScore[] = [];
  for (const group of groups) {
    const base = { members: [...group.members], totalWeight: group.totalWeight };
    if (!hasWeight(group)) {
      scores.push({ ...base, marginal: 0, norm: 0, cosine: 0 });
      continue;
    }
    const others = new Float64Array(total);
    for (let i = 0; i < others.length; i++) others[i]! -= group.sum[i]!;
    const othersWeight = sumOfWeights(weighted.filter((other) => other !== group));
    const leftOut = await lossOf(evaluate, candidate(global, others, othersWeight), 'the update without a group');
    scores.push({ ...base, marginal: leftOut - fullLoss, norm: l2(group.sum) / group.totalWeight, cosine: cosineSimilarity(group.sum, total) });
  }
  return { scores, fullLoss };
}

/** Σ weights, summed afresh (not W − w_g) so that "no other group" is exactly 0. */
function sumOfWeights(groups: readonly GroupSum[]): number {
  return groups.reduce((s, g) => s + g.totalWeight, 0);
}

/**
 * Marginals on an absolute scale: each group's progress relative to the round's average,
 *
 *   ρ_g = 1 + (W − w_g) / w_g · marginal_g / improvement,   improvement = loss(global) − loss(global + Δ)
 *
 * (first order: ρ_g = progress of m_g ÷ progress of Δ; a zero update scores 0, the round's
 * average 1, a harmful update below 0; see the file comment). `improvement` is what the caller
 * already knows: the loss of the round's starting model, evaluated on the same data, minus the
 * loss of the full update. Undefined when the round did not improve (the ratio would flip signs)
 * or a group had no weight share to compare. A single group gets 1 + 0 · …: it is the average.
 */
export function relativeProgress(scores: readonly GroupScore[], improvement: number): number[] | undefined {
  if (!Number.isFinite(improvement) || improvement <= 0) return undefined;
  const total = scores.reduce((s, g) => s + (g.totalWeight > 0 && Number.isFinite(g.totalWeight) ? g.totalWeight : 0), 0);
  if (total <= 0) return undefined;
  return scores.map((g) => {
    if (!(g.totalWeight > 0) || !Number.isFinite(g.totalWeight)) return 0;
    return 1 + ((total - g.totalWeight) / g.totalWeight) * (g.marginal / improvement);
  });
}

export interface FirstOrderInput {
  /** The model the round started from. */
  global: Float32Array;
  groups: ReadonlyArray<GroupSum>;
  /** ∇ of the held-out mean loss at `global`. */
  gradient: Float32Array;
}

/**
 * First-order scores, when the coordinator can take the held-out loss's gradient at the round's
 * starting model (one backward pass over the held-out set instead of G + 2 evaluations):
 *
 *   marginal_g = −∇L · m_g          (m_g = sum_g ÷ w_g, the group's mean delta)
 *   improvement = −∇L · Δ           (Δ, the round's FedAvg delta)
 *   progress_g = marginal_g ÷ improvement
 *
 * the improvement each update brings to first order, the linearisation of loss(global) −
 * loss(global + m_g), and to first order the same ratio relativeProgress gives (1: as good as
 * the round's average, 0: no progress, < 0: harmful). Being linear in the update, a group's
 * marginal is exactly the weighted mean of what its members' updates would score alone, which is
 * the model quality-estimator.ts fits; a leave-one-out loss is not, and its curvature and the
 * interplay of groups made it too noisy to tell a random update from an honest one (see
 * BENCHMARKS.md, "Contribution"). A random direction scores about 0 (it is orthogonal to the
 * gradient in high dimension), a zero update 0, a label-flipping one below 0. `progress` is
 * undefined when the round's update does not descend to first order (improvement ≤ 0).
 */
export function scoreGroupsFirstOrder(input: FirstOrderInput): { scores: GroupScore[]; improvement: number; progress: number[] | undefined } {
  checkShapes(input);
  if (input.gradient.length !== input.global.length) {
    throw new CohortError('E_STRATEGY_INPUT', `the gradient has ${input.gradient.length} values, the model ${input.global.length}`);
  }
  const weighted = input.groups.filter(hasWeight);
  const total = new Float64Array(input.global.length);
  for (const group of weighted) for (let i = 0; i < total.length; i++) total[i]! += group.sum[i]!;
  const totalWeight = sumOfWeights(weighted);
  const improvement = totalWeight > 0 ? -dot(input.gradient, total) / totalWeight : 0;
  const scores = input.groups.map((group): GroupScore => {
    const base = { members: [...group.members], totalWeight: group.totalWeight };
    if (!hasWeight(group)) return { ...base, marginal: 0, norm: 0, cosine: 0 };
    return { ...base, marginal: -dot(input.gradient, group.sum) / group.totalWeight, norm: l2(group.sum) / group.totalWeight, cosine: cosineSimilarity(group.sum, total) };
  });
  const progress = Number.isFinite(improvement) && improvement > 0 ? scores.map((g) => (hasWeight(g) ? g.marginal / improvement : 0)) : undefined;
  return { scores, improvement, progress };
}
