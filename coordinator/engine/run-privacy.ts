/**
 * A run's differential privacy, round by round: the clip norm (fixed or adaptive), what each
 * worker is told, the noise the coordinator adds, and the (ε, δ) spent so far (RDP accountant).
 *
 * Order in a round: workers clip (and, for distributed noise, add their share) → the sum, plain
 * or secure → central noise here → strategy.aggregate → the accountant records the round.
 */
import { planDpRound, finishDpRound, suggestedSecAggClipRange, type DpRoundPlan } from '../privacy/dp-round.js';
import { resolvePrivacy, type ResolvedPrivacy } from '../privacy/dp-config.js';
import { PrivacyBudget, type PrivacyReport, type RoundCheck } from '../privacy/budget.js';
import type { RoundAggregate, Strategy } from '../strategy/strategy.js';
import type { RunConfig } from './run-config.js';

export class RunPrivacy {
  private clipNorm: number;
  private readonly budget: PrivacyBudget;

  private constructor(private readonly resolved: ResolvedPrivacy) {
    this.clipNorm = resolved.clipNorm;
    this.budget = new PrivacyBudget({ delta: resolved.delta, epsilonBudget: resolved.epsilonBudget });
  }

  /** undefined when the run has no privacy block; E_CONFIG_INVALID listing every problem otherwise. */
  static create(config: RunConfig, strategy: Strategy): RunPrivacy | undefined {
    if (!config.privacy) return undefined;
    const clientsPerRound = config.clientsPerRound ?? config.minClients;
    return new RunPrivacy(
      resolvePrivacy(config.privacy, {
        clientsPerRound,
        // Without clientsPerRound every ready worker takes part in every round: q = 1.
        population: config.clientsPerRound === undefined ? clientsPerRound : undefined,
        secureAggregation: config.secureAggregation !== false,
        strategy,
      }),
    );
  }

  /** `minContributors`: the fewest workers the round can complete with (the SecAgg threshold). */
  plan(minContributors: number): DpRoundPlan {
    return planDpRound(this.resolved, this.clipNorm, minContributors);
  }

  /** Whether one more round fits the ε budget (a round costs the same whatever its t). */
  checkNextRound(): RoundCheck {
    return this.budget.check(this.plan(1).accounting);
  }

  /** The SecAgg clip range that keeps the noised, clipped values inside the fixed-point range. */
  secAggClipRange(plan: DpRoundPlan, configured: number): number {
    return Math.max(configured, suggestedSecAggClipRange(plan));
  }

  /** Central noise, the adaptive clip update, and the accountant: the aggregate the strategy sees. */
  finish(aggregate: RoundAggregate, plan: DpRoundPlan): { aggregate: RoundAggregate; report: PrivacyReport } {
    const finished = finishDpRound(aggregate, plan, this.resolved);
    this.clipNorm = finished.nextClipNorm;
    return { aggregate: finished.aggregate, report: this.budget.record(plan.accounting) };
  }

  report(): PrivacyReport {
    return this.budget.report();
  }
}
