/**
 * Step `score` (rounds of a run with a `rewards.quality` rule): scores the round's SecAgg+ scoring
 * groups by what each did for the model on the coordinator's held-out set (against the
 * coordinator's own reference update when the evaluator can train: reference-score.ts; else
 * first-order marginals on the held-out gradient; else leave-one-group-out losses:
 * coordinator/contribution/group-score.ts), feeds the scores to the run's quality estimator, and
 * reads every survivor's quality back for `commit`, which credits declared work × quality factor.
 *
 * The scores use the round's plain FedAvg delta (Σ sums ÷ Σ weights), whatever the strategy makes
 * of it: a group's worth is what its members' updates do on average, not what a server optimizer
 * adds. A round without groups (too few survivors, a disputed seed) is not scored; its rewards
 * still use the estimates from earlier rounds. The estimator's change is undone if the round is
 * refused after this step, so a retry observes the round once.
 */
import { CohortError } from '../../../core/protocol/errors.js';
import { scoreGroupsFirstOrder, scoreRound, type GroupScore, type GroupSum } from '../../contribution/group-score.js';
import { scoreGroupsByReference } from '../../contribution/reference-score.js';
import type { ScoringObservation } from '../../contribution/scoring-record.js';
import { QualityEstimator, observationOf } from '../../contribution/quality-estimator.js';
import { isFlagged, qualityFactor } from '../../contribution/quality-rule.js';
import { need, type RoundScoring, type RoundStep, type RunQuality } from '../round-state.js';

/** Every survivor's quality as the estimator has it now, with the factor the rule gives it. */
function survivorQualities(quality: RunQuality, addresses: readonly string[]): RoundScoring['workers'] {
  const workers: RoundScoring['workers'] = new Map();
  for (const address of addresses) {
    const q = quality.estimator.quality(address);
    const flagged = isFlagged(q, quality.rule);
    workers.set(address, { ...q, flagged, factor: flagged ? 0 : qualityFactor(q.estimate, q.confidence, quality.rule) });
  }
  return workers;
}

/**
 * Against the reference update when the evaluator can train (one local training on held-out
 * data), else first-order marginals when it gives the held-out gradient (one backward pass; see
 * scoreGroupsFirstOrder), else leave-one-group-out losses (G + 2 evaluations).
 */
async function scoreGroupsOfRound(quality: RunQuality, round: number, global: Float32Array, groups: ReadonlyArray<GroupSum>): Promise<{ scores: GroupScore[]; observation: ScoringObservation }> {
  if (quality.referenceUpdate) {
    const reference = await quality.referenceUpdate(global, round);
    for (const v of reference) if (!Number.isFinite(v)) throw new CohortError('E_INTERNAL', 'scoring groups: the reference update holds NaN or Infinity');
    const scores = scoreGroupsByReference({ groups, reference });
    return { scores, observation: observationOf(scores) };
  }
  if (quality.lossGradient) {
    const gradient = await quality.lossGradient(global);
    for (const v of gradient) if (!Number.isFinite(v)) throw new CohortError('E_INTERNAL', 'scoring groups: the held-out gradient holds NaN or Infinity');
    const { scores, progress } = scoreGroupsFirstOrder({ global, groups, gradient });
    if (progress) return { scores, observation: { groups: scores.map((g, i) => ({ members: g.members, score: progress[i]! })), relative: true } };
    return { scores, observation: observationOf(scores) };
  }
  const { scores, improvement } = await scoreRound({ global, groups, evaluate: (w) => quality.evaluate(w) });
  return { scores, observation: observationOf(scores, improvement) };
}

export const score: RoundStep = {
  name: 'score',
  async run(state, ctx) {
    const quality = ctx.quality;
    if (!quality) return undefined;
    const outcome = need(state.outcome, 'outcome', 'score');
    const survivors = outcome.survivors.map((s) => s.address);
    const groups = outcome.groups ?? [];
    if (groups.length < 2) {
      const skipped = outcome.groupsUnavailable ?? 'the round has no scoring groups';
      state.scoring = { groups: [], skipped, workers: survivorQualities(quality, survivors) };
      return undefined;
    }
    const before = quality.estimator.toJSON();
    const previousRollback = state.rollback;
    state.rollback = () => {
      previousRollback?.();
      quality.estimator = QualityEstimator.fromJSON(before);
    };
    try {
      const { scores, observation } = await scoreGroupsOfRound(quality, state.round, state.global, groups);
      // The observation is what the ledger publishes (RoundScored), so anyone can replay the estimate.
      quality.estimator.observe(state.round, observation);
      state.scoring = { groups: scores, observation, workers: survivorQualities(quality, survivors) };
    } catch (error) {
      // A held-out loss that is not finite (or groups the scorer refuses) loses the round's scores, not the round.
      if (!(error instanceof CohortError)) throw error;
      quality.estimator = QualityEstimator.fromJSON(before);
      state.scoring = { groups: [], skipped: `not scored: ${error.message}`, workers: survivorQualities(quality, survivors) };
    }
    return undefined;
  },
};
