/**
 * A run's differential privacy, round by round: the clip norm (fixed or adaptive), what each
 * worker is told, the noise the coordinator adds, and the (ε, δ) spent so far (RDP accountant).
 *
 * Order in a round: workers clip (and, for distributed noise, add their share) → the sum, plain
 * or secure → central noise here → strategy.aggregate → the accountant records the round.
 *
 * In mode "async" every secure group is one sampling event, accounted at q = 1: a group is
 * whoever happened to be free, which depends on each device's speed, not a uniform random
 * sample, so no amplification by sampling can be claimed for it.
 *
 * The accountant's state is saved (through `persistWith`) every time a noised sum is produced,
 * and restored when the run resumes, so a crash never resets ε.
 */
import { CohortError } from '../../core/protocol/errors.js';
import { planDpRound, finishDpRound, suggestedSecAggClipRange, type DpRoundPlan } from '../privacy/dp-round.js';
import { resolvePrivacy, type ResolvedPrivacy } from '../privacy/dp-config.js';
import { PrivacyBudget, type PrivacyReport, type RoundCheck } from '../privacy/budget.js';
import type { RoundAggregate, Strategy } from '../strategy/strategy.js';
import type { SgmSteps } from '../privacy/rdp-accountant.js';
import type { RunConfig } from './run-config.js';

/** What a resumed run needs to go on accounting: the steps composed so far, and the clip norm. */
export interface PrivacyState {
  history: Array<Required<SgmSteps>>;
  clipNorm: number;
}

export class RunPrivacy {
  private clipNorm: number;
  private readonly budget: PrivacyBudget;
  private save: ((state: PrivacyState) => void) | undefined;

  private constructor(
    private readonly resolved: ResolvedPrivacy,
    saved: PrivacyState | undefined,
  ) {
    this.clipNorm = saved?.clipNorm ?? resolved.clipNorm;
    this.budget = new PrivacyBudget({ delta: resolved.delta, epsilonBudget: resolved.epsilonBudget, history: saved?.history ?? [] });
  }

  /**
   * undefined when the run has no privacy block; E_CONFIG_INVALID listing every problem otherwise.
   * `saved`: the state of the run being resumed (RunStore.privacyState), as stored.
   */
  static create(config: RunConfig, strategy: Strategy, saved?: unknown): RunPrivacy | undefined {
    if (!config.privacy) return undefined;
    const async = config.mode === 'async';
    // An async group has bufferSize members by the time it closes; every group is accounted at q = 1.
    const clientsPerRound = async ? (config.bufferSize ?? config.minClients) : (config.clientsPerRound ?? config.minClients);
    const resolved = resolvePrivacy(async ? { ...config.privacy, samplingRate: 1 } : config.privacy, {
      clientsPerRound,
      // Without clientsPerRound every ready worker takes part in every round: q = 1.
      population: !async && config.clientsPerRound === undefined ? clientsPerRound : undefined,
      secureAggregation: config.secureAggregation !== false,
      strategy,
    });
    return new RunPrivacy(resolved, saved === undefined ? undefined : parsePrivacyState(saved));
  }

  /** Called with the new state every time the accountant records a noised sum. */
  persistWith(save: (state: PrivacyState) => void): void {
    this.save = save;
  }

  state(): PrivacyState {
    return { history: this.budget.history(), clipNorm: this.clipNorm };
  }

  /** `minContributors`: the fewest workers the round can complete with (the SecAgg threshold). */
  plan(minContributors: number): DpRoundPlan {
    return planDpRound(this.resolved, this.clipNorm, minContributors);
  }

  /**
   * Whether one more round fits the ε budget (a round costs the same whatever its t), on top of
   * `pending` rounds already under way that will each spend one (async groups still training).
   */
  checkNextRound(pending = 0): RoundCheck {
    const step = this.plan(1).accounting;
    return this.budget.check({ ...step, steps: step.steps * (pending + 1) });
  }

  /** The SecAgg clip range that keeps the noised, clipped values inside the fixed-point range. */
  secAggClipRange(plan: DpRoundPlan, configured: number): number {
    return Math.max(configured, suggestedSecAggClipRange(plan));
  }

  /** Central noise, the adaptive clip update, and the accountant: the aggregate the strategy sees. */
  finish(aggregate: RoundAggregate, plan: DpRoundPlan): { aggregate: RoundAggregate; report: PrivacyReport } {
    const finished = finishDpRound(aggregate, plan, this.resolved);
    this.clipNorm = finished.nextClipNorm;
    const report = this.budget.record(plan.accounting);
    this.save?.(this.state());
    return { aggregate: finished.aggregate, report };
  }

  report(): PrivacyReport {
    return this.budget.report();
  }
}

/** A stored state, checked: a store edited by hand must not silently reset or lower ε. */
function parsePrivacyState(saved: unknown): PrivacyState {
  const s = saved as Partial<PrivacyState> | null;
  const stepOk = (e: Partial<SgmSteps> | null): boolean =>
    e !== null && typeof e === 'object' && Number(e.q) > 0 && Number(e.q) <= 1 && Number(e.sigma) >= 0 && Number.isInteger(e.steps) && e.steps! >= 0;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.history) || !s.history.every(stepOk) || !(Number(s.clipNorm) > 0)) {
    throw new CohortError('E_STORE', `the run's stored privacy state is malformed (${JSON.stringify(saved).slice(0, 120)}); refusing to resume with an unknown ε`);
  }
  return { history: s.history, clipNorm: s.clipNorm! };
}
