/**
 * Each worker's quality, estimated from the scores of the groups it was in, over a whole run.
 * Secure aggregation shows only group sums, so one round says how good a GROUP was
 * (group-score.ts), never a worker; but groups are reshuffled every round, so across rounds each
 * worker meets different co-members, and the scores can be explained by per-worker qualities.
 * That is the group-testing view of contribution evaluation: GTG-Shapley (Liu et al. 2022,
 * "GTG-Shapley: Efficient and Accurate Participant Contribution Evaluation in Federated
 * Learning", ACM TIST) values coalitions built from the round's updates instead of retraining;
 * here the coalitions are the secure-aggregation groups, and per-worker values come out of an
 * ordinary ridge regression (Hoerl & Kennard 1970) of the group scores on group membership:
 *
 *   y_{r,g} ≈ Σ_{u ∈ g} φ_u / |g|          minimise Σ (y − a·φ)² + λ Σ φ_u²
 *
 * The MEAN of the members' qualities, not their sum: a group's mean delta weighs each member
 * about 1/|g| (FedAvg's weights within it), so φ_u reads as "what a group made only of workers
 * like u would score", on the same scale whatever the group size, and groups of 4 and 6 in one
 * round are compared fairly. The prior mean is 0 ("no evidence, no credit"), and λ defaults to
 * one observation's weight in a group of 5 (1/25): the prior is worth about one group.
 *
 * Per round, scores are divided by a scale, so early rounds whose improvements are large do not
 * outweigh late ones: the caller's (1 for `relativeProgress` scores, already divided by the
 * round's loss improvement), or else the median |score| over the round's groups and those of the
 * scaleWindow − 1 rounds before it (mean |score| if that median is 0; a round with nothing to
 * divide by is skipped). Pooled, not the round's own median: with 4 groups a round's median moves
 * with how many bad workers it drew, and a good group in a bad round would be scored up to 3×.
 * Normalised scores are clipped to ±scoreClip so one catastrophic round cannot drown the
 * co-members of the worker who caused it. Groups smaller than minGroupSize are never
 * observed: scoring a small group comes close to scoring one worker, which is what secure
 * aggregation exists to prevent. What this file reveals per worker is one number over the run.
 *
 * Rounds are not equally informative: late in a run, when updates barely move the held-out loss,
 * a round's group scores scatter far more around the fit than early ones. So the fit is weighted
 * least squares in two passes (iteratively reweighted, as for heteroscedastic errors): a first fit
 * with every group alike, then each round's groups weighted by σ̂² ÷ σ_r², σ_r² being that round's
 * own mean squared residual blended with σ̂² (worth 4 groups), clamped to [1/16, 16] and scaled to
 * a mean of 1 per group, and a second fit. On the simulated adversarial run this moved little
 * (BENCHMARKS.md); on the synthetic fleet, nothing beyond noise.
 *
 * Each fit is conjugate gradient on the normal equations (AᵀΩA + λI) φ = AᵀΩy (ridge-solve.ts),
 * started from zero, so the estimates depend on the observations alone and a replay of the
 * published scores (scoring-replay.ts) reproduces them to the last bit; one product with AᵀΩA walks
 * every stored observation once, so an update costs O(iterations · rounds · G · groupSize), and no
 * matrix over the workers is ever formed.
 *
 * Confidence (in [0, 1]) is the estimate's standard error under the fit, as a share:
 *
 *   se_u² = σ̂² · [(AᵀΩA + λI)⁻¹]_uu,   confidence_u = 1 / (1 + se_u²)
 *
 * the posterior variance of φ_u in the Bayesian reading of ridge regression (prior φ ~ N(0, σ²/λ)).
 * It falls with every group the worker is observed in, and it also sees confounding: a worker
 * always grouped with the same suspect stays uncertain however often it is seen, which the
 * diagonal alone (Σ 1/|g|²) would miss. It rises with the fit's residual variance σ̂², the
 * in-sample mean squared residual blended with a prior of priorVariance worth priorWeight
 * observations, σ̂² = (Σ ω·residual² + priorWeight · priorVariance) / (m + priorWeight), because with fewer
 * observations than workers a ridge fit explains its own data too well to measure its noise. So
 * confidence grows with observations and shrinks as the residual grows; 0.5 means a standard
 * error of one median group's score, and se = √(1/confidence − 1) recovers the error.
 * [(AᵀΩA + λI)⁻¹]_uu costs one more conjugate-gradient solve of the same size, done when a
 * worker's quality is first asked for after a fit and kept until the next.
 */
import { z } from 'zod';
import { CohortError } from '../../core/protocol/errors.js';
import { relativeProgress, type GroupScore } from './group-score.js';
import { conjugateGradient, type Row } from './ridge-solve.js';

export { conjugateGradient, type Row } from './ridge-solve.js';

export interface QualityEstimatorOptions {
  /** λ of the ridge penalty, in the units of AᵀA (one member of a group of 5 adds 1/25). */
  ridge: number;
  /** Groups with fewer members are not observed. */
  minGroupSize: number;
  /** Normalised scores are clipped to ±scoreClip. */
  scoreClip: number;
  /** Rounds (this one included) whose raw scores pool into the default scale. */
  scaleWindow: number;
  /** σ² assumed before there is any data (in median-group units, squared) … */
  priorVariance: number;
  /** … and how many observations that assumption is worth. */
  priorWeight: number;
}

export const DEFAULT_ESTIMATOR_OPTIONS: QualityEstimatorOptions = {
  /** The prior is worth one observation in a group of 5: it decides only what the data cannot. */
  ridge: 1 / 25,
  /** quality-rule.ts's default; see its reasons. */
  minGroupSize: 5,
  /** Four median groups: far beyond any honest group, so clipping touches only catastrophes. */
  scoreClip: 4,
  /** Five rounds pool 20 groups at 4 a round, while a run's improvements change little in five rounds. */
  scaleWindow: 5,
  /** Before the data says otherwise, a group's score is taken to be off by half a median group … */
  priorVariance: 0.25,
  /** … an assumption worth 20 observations (5 rounds of 4 groups), so the data takes over within a short run. */
  priorWeight: 20,
};

/** One group's score for the estimator: any scale; the round is normalised as a whole. */
export interface GroupObservation {
  readonly members: readonly string[];
  readonly score: number;
}

export interface WorkerQuality {
  /** φ_u: 1 ≈ as good as the median group of its rounds, 0 ≈ contributes nothing, < 0 harmful. */
  estimate: number;
  /** In [0, 1]; see the file comment for the formula. */
  confidence: number;
  /** Groups this worker was observed in. */
  observations: number;
}

export interface RoundObservationSummary {
  round: number;
  /** Groups recorded. */
  used: number;
  /** Groups left out (too small, a non-finite score), or all of them for an uninformative round. */
  skipped: number;
  /** What the round's scores were divided by (0: the round was skipped). */
  scale: number;
}


/** A round's own residual variance is blended with the pooled σ̂², worth this many groups, … */
const ROUND_VARIANCE_PRIOR_ROWS = 4;
/** … and no round weighs more than 16 times another's groups, nor less than 1/16. */
const MAX_ROUND_WEIGHT = 16;

const optionsSchema = z.strictObject({
  ridge: z.number().positive().finite(),
  minGroupSize: z.number().int().min(1),
  scoreClip: z.number().positive(),
  scaleWindow: z.number().int().min(1).max(1000),
  priorVariance: z.number().positive().finite(),
  priorWeight: z.number().min(0).finite(),
});

const stateSchema = z.strictObject({
  version: z.literal(1),
  options: optionsSchema,
  workers: z.array(z.string()),
  rounds: z.array(z.strictObject({
    round: z.number().int(),
    /** What the round's raw scores were divided by … */
    scale: z.number().positive().finite(),
    /** … and whether that was the pooled default (only such rounds pool into later defaults). */
    pooled: z.boolean(),
    groups: z.array(z.strictObject({ members: z.array(z.number().int().min(0)), score: z.number().finite(), raw: z.number().finite() })),
  })),
  estimates: z.array(z.number().finite()),
});

/** The estimator as plain JSON: options, workers, every normalised observation, and the last fit. */
export type QualityEstimatorState = z.output<typeof stateSchema>;


/** A recorded round: its rows, the raw scores they came from, and the scale between the two. */
interface RoundRecord {
  rows: Row[];
  raw: number[];
  scale: number;
  /** The scale was the pooled default, so `raw` is on the scale later defaults pool. */
  pooled: boolean;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A divisor for scores: median |score|, else mean |score|, else 0 (nothing to learn). */
function pooledScale(scores: readonly number[]): number {
  if (scores.length === 0) return 0;
  const magnitudes = scores.map(Math.abs);
  const mid = median(magnitudes);
  if (mid > 0 && Number.isFinite(mid)) return mid;
  const mean = magnitudes.reduce((s, v) => s + v, 0) / magnitudes.length;
  return mean > 0 && Number.isFinite(mean) ? mean : 0;
}

export class QualityEstimator {
  private readonly options: QualityEstimatorOptions;
  private readonly workers: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly rounds = new Map<number, RoundRecord>();
  private rows: Row[] = [];
  private phi: Float64Array = new Float64Array(0);
  private counts: Float64Array = new Float64Array(0);
  /** [(AᵀA + λI)⁻¹]_uu, solved on demand after each fit. */
  private readonly inverseDiagonal = new Map<number, number>();
  private variance: number;

  constructor(options: Partial<QualityEstimatorOptions> = {}) {
    const parsed = optionsSchema.safeParse({ ...DEFAULT_ESTIMATOR_OPTIONS, ...options });
    if (!parsed.success) throw new CohortError('E_CONFIG_INVALID', `quality estimator ${firstIssue(parsed.error)}`);
    this.options = parsed.data;
    this.variance = this.options.priorVariance;
  }

  /**
   * Records one round's groups (replacing an earlier record of the same round: a retried round)
   * and refits. `scale` divides the scores (default: the pooled median, see the file comment).
   * Members are matched case-insensitively (addresses); a member named twice counts once.
   */
  observeRound(round: number, groups: ReadonlyArray<GroupObservation>, scale?: number): RoundObservationSummary {
    if (!Number.isSafeInteger(round)) throw new CohortError('E_INTERNAL', `quality estimator: round ${round} is not an integer`);
    const kept = groups.filter((g) => Number.isFinite(g.score) && new Set(g.members.map((m) => m.toLowerCase())).size >= this.options.minGroupSize);
    this.rounds.delete(round);
    const raw = kept.map((g) => g.score);
    const divisor = scale ?? pooledScale([...raw, ...this.recentRawScores(round)]);
    if (kept.length === 0 || !(divisor > 0) || !Number.isFinite(divisor)) {
      this.refit();
      return { round, used: 0, skipped: groups.length, scale: 0 };
    }
    const clip = this.options.scoreClip;
    const rows = kept.map((g) => ({
      members: [...new Set(g.members.map((m) => this.indexOf(m)))],
      score: Math.max(-clip, Math.min(clip, g.score / divisor)),
    }));
    this.rounds.set(round, { rows, raw, scale: divisor, pooled: scale === undefined });
    this.refit();
    return { round, used: rows.length, skipped: groups.length - rows.length, scale: divisor };
  }

  /**
   * Records scoreGroups' output for one round: on the absolute scale of `relativeProgress` (scale 1)
   * when the round's improvement, loss(global) − loss(global + Δ), is known and positive; else the
   * marginals themselves under the pooled scale, where 0 means "as good as the round's average"
   * and estimates are only relative (see group-score.ts).
   */
  observeScores(round: number, scores: readonly GroupScore[], improvement?: number): RoundObservationSummary {
    return this.observe(round, observationOf(scores, improvement));
  }

  /** Records an observation as observationOf gives it (and a RoundScored record publishes it). */
  observe(round: number, observation: { groups: ReadonlyArray<GroupObservation>; relative: boolean }): RoundObservationSummary {
    return this.observeRound(round, observation.groups, observation.relative ? 1 : undefined);
  }

  /** The settings this estimator fits with (published with every scored round). */
  get settings(): QualityEstimatorOptions {
    return { ...this.options };
  }

  /** Raw scores of the scaleWindow − 1 rounds before `round` that the default scale divided (a caller's scale is another unit). */
  private recentRawScores(round: number): number[] {
    const earlier = [...this.rounds].filter(([r, record]) => r < round && record.pooled).sort(([a], [b]) => b - a);
    return earlier.slice(0, this.options.scaleWindow - 1).flatMap(([, record]) => record.raw);
  }

  /** A worker's quality; a worker never observed gets estimate 0, confidence 0. */
  quality(address: string): WorkerQuality {
    const i = this.index.get(address.toLowerCase());
    if (i === undefined || this.counts[i] === 0) return { estimate: 0, confidence: 0, observations: 0 };
    let diagonal = this.inverseDiagonal.get(i);
    if (diagonal === undefined) {
      const unit = new Float64Array(this.workers.length);
      unit[i] = 1;
      diagonal = conjugateGradient(this.rows, this.options.ridge, unit)[i]!;
      this.inverseDiagonal.set(i, diagonal);
    }
    return { estimate: this.phi[i]!, confidence: 1 / (1 + this.variance * diagonal), observations: this.counts[i]! };
  }

  /** Every worker seen so far (lower-cased addresses), with its quality: one solve per worker. */
  qualities(): Map<string, WorkerQuality> {
    return new Map(this.workers.map((w) => [w, this.quality(w)]));
  }

  /** σ̂², the residual variance the confidences use. */
  get residualVariance(): number {
    return this.variance;
  }

  toJSON(): QualityEstimatorState {
    return {
      version: 1,
      options: { ...this.options },
      workers: [...this.workers],
      rounds: [...this.rounds].sort(([a], [b]) => a - b).map(([round, record]) => ({
        round,
        scale: record.scale,
        pooled: record.pooled,
        groups: record.rows.map((r, i) => ({ members: [...r.members], score: r.score, raw: record.raw[i]! })),
      })),
      estimates: Array.from(this.phi),
    };
  }

  /** Resumes from toJSON's output (after a JSON round trip); E_STORE if it does not fit. */
  static fromJSON(state: unknown): QualityEstimator {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) throw new CohortError('E_STORE', `quality estimator state ${firstIssue(parsed.error)}`);
    const data = parsed.data;
    if (new Set(data.workers).size !== data.workers.length || data.estimates.length !== data.workers.length) {
      throw new CohortError('E_STORE', 'quality estimator state: workers are repeated, or estimates do not match them');
    }
    const estimator = new QualityEstimator(data.options);
    for (const w of data.workers) estimator.indexOf(w);
    for (const { round, scale, pooled, groups } of data.rounds) {
      if (groups.some((g) => g.members.length === 0 || g.members.some((m) => m >= data.workers.length))) {
        throw new CohortError('E_STORE', `quality estimator state: round ${round} has an empty group or names an unknown worker`);
      }
      const rows = groups.map((g) => ({ members: [...new Set(g.members)], score: g.score }));
      estimator.rounds.set(round, { rows, raw: groups.map((g) => g.raw), scale, pooled });
    }
    estimator.phi = Float64Array.from(data.estimates);
    estimator.refit();
    return estimator;
  }

  private indexOf(address: string): number {
    const key = address.toLowerCase();
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.workers.length;
      this.workers.push(key);
      this.index.set(key, i);
    }
    return i;
  }

  /**
   * Fits twice: every group weighted alike, then each round's groups weighted by how well that
   * first fit explains them (the file comment), then recounts observations and σ̂². Both solves
   * start from zero, so the estimates are a function of the observations alone, whatever came
   * before: a replay (scoring-replay.ts) or a resumed run gets them to the last bit.
   */
  private refit(): void {
    const n = this.workers.length;
    const records = [...this.rounds].sort(([a], [b]) => a - b).map(([, record]) => record.rows);
    const first = this.solve(records.flat(), n);
    const pooled = this.pooledVariance(records.flat(), first, () => 1);
    const roundWeights = records.map((rows) => {
      const rss = rows.reduce((s, row) => s + (row.score - fittedScore(row, first)) ** 2, 0);
      const roundVariance = (rss + ROUND_VARIANCE_PRIOR_ROWS * pooled) / (rows.length + ROUND_VARIANCE_PRIOR_ROWS);
      return Math.min(MAX_ROUND_WEIGHT, Math.max(1 / MAX_ROUND_WEIGHT, pooled / roundVariance));
    });
    // Scaled to a mean of 1 per group: the weights only move trust between rounds, never against the prior.
    const rowCount = records.reduce((n, rows) => n + rows.length, 0);
    const scale = rowCount / Math.max(Number.MIN_VALUE, records.reduce((s, rows, r) => s + rows.length * roundWeights[r]!, 0));
    const weighted = records.flatMap((rows, r) => rows.map((row) => ({ members: row.members, score: row.score, weight: roundWeights[r]! * scale })));
    this.rows = weighted;
    this.phi = this.solve(weighted, n);
    this.inverseDiagonal.clear();
    this.counts = new Float64Array(n);
    for (const row of weighted) for (const u of row.members) this.counts[u]! += 1;
    this.variance = this.pooledVariance(weighted, this.phi, (row) => row.weight ?? 1);
  }

  private solve(rows: readonly Row[], n: number): Float64Array {
    const b = new Float64Array(n);
    for (const row of rows) for (const u of row.members) b[u]! += ((row.weight ?? 1) * row.score) / row.members.length;
    return conjugateGradient(rows, this.options.ridge, b);
  }

  /** σ̂²: the (weighted) mean squared residual of `phi`, blended with the prior variance (file comment). */
  private pooledVariance(rows: readonly Row[], phi: Float64Array, weightOf: (row: Row) => number): number {
    const rss = rows.reduce((s, row) => s + weightOf(row) * (row.score - fittedScore(row, phi)) ** 2, 0);
    const { priorVariance, priorWeight } = this.options;
    const weight = rows.length + priorWeight;
    return weight > 0 ? (rss + priorWeight * priorVariance) / weight : priorVariance;
  }
}

/** A row's fitted score: the mean of its members' estimates. */
function fittedScore(row: Row, phi: Float64Array): number {
  let fitted = 0;
  for (const u of row.members) fitted += phi[u]! / row.members.length;
  return fitted;
}

/**
 * What the estimator observes of one round's scores: relativeProgress's absolute scale when the
 * round's improvement is known and positive, else the raw marginals under the pooled scale.
 */
export function observationOf(scores: readonly GroupScore[], improvement?: number): { groups: GroupObservation[]; relative: boolean } {
  const relative = improvement === undefined ? undefined : relativeProgress(scores, improvement);
  if (relative) return { groups: scores.map((g, i) => ({ members: [...g.members], score: relative[i]! })), relative: true };
  return { groups: scores.map((g) => ({ members: [...g.members], score: g.marginal })), relative: false };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.length ? issue.path.join('.') : '(top level)'}: ${issue?.message ?? 'invalid'}`;
}
