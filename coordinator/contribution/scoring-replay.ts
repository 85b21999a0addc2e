/**
 * Recomputes a quality-paid run's reward lists from its published scoring records alone
 * (scoring-record.ts), round by round, as the coordinator computed them: the estimator observes
 * each round's published group scores, every listed worker's factor follows from its estimate
 * under the published rule, its amount is ⌊work × factor⌋, and splitRound shares the round's
 * reward. `cohort ledger verify` compares each replayed list and cumulative root with the chain's.
 *
 * The replay starts from an empty estimator, as the run did; the estimator is deterministic, so
 * the same observations in the same order give the same estimates to the last bit.
 */
import { RewardTree, accumulate } from '../../contracts/merkle.js';
import { CohortError } from '../../core/protocol/errors.js';
import { splitRound, type RoundSplit } from '../ledger/rewards.js';
import { QualityEstimator } from './quality-estimator.js';
import { qualityAdjustedContributions } from './quality-rule.js';
import type { ScoringRecord } from './scoring-record.js';

export class ScoringReplay {
  private estimator: QualityEstimator | undefined;
  private settings: string | undefined;
  private cumulative = new Map<string, bigint>();

  /** Replays one round (rounds in the order they were recorded) and returns the split it gives. */
  replayRound(round: number, record: ScoringRecord): RoundSplit {
    const settings = JSON.stringify(record.estimator);
    if (this.settings !== undefined && settings !== this.settings) {
      throw new CohortError('E_LEDGER_INPUT', `round ${round}'s scoring record changes the estimator's settings mid-run`);
    }
    this.settings = settings;
    this.estimator ??= new QualityEstimator(record.estimator);
    const estimator = this.estimator;
    if (record.observation) estimator.observe(round, record.observation);
    // ⌊work × factor⌋, 0 when flagged: the same rule the coordinator's commit applied.
    const adjusted = qualityAdjustedContributions(record.work.map(({ address, work }) => ({ address, amount: work })), estimator, record.rule);
    const contributions = adjusted.map((c, i) => ({ ...c, unscaledAmount: record.work[i]!.work }));
    const split = splitRound({
      reward: record.roundReward,
      contributions,
      cumulative: this.cumulative,
      perWorkerContributionCap: record.perWorkerContributionCap,
      perAddressRewardCapWei: record.perAddressRewardCapWei,
    });
    this.cumulative = accumulate(this.cumulative, split.entries);
    return split;
  }

  /** The cumulative root after the rounds replayed so far. */
  get root(): string {
    return RewardTree.build(this.cumulative).root;
  }
}
