/**
 * A run's privacy budget: (ε, δ) accounted over the rounds with the RDP accountant, and a cap on ε
 * that is checked BEFORE each round, so that a run with a budget stops before it would exceed it
 * (and says why) instead of noticing afterwards.
 *
 * Only rounds whose noised result was used should be recorded: a round that failed before its sum
 * was revealed (e.g. below the SecAgg threshold) released nothing.
 *
 * @example
 * const budget = new PrivacyBudget({ delta: 1e-5, epsilonBudget: 8 });
 * budget.assertRoundFits(round, plan.accounting);   // throws E_PRIVACY_BUDGET when it would not
 * // … run the round …
 * const { epsilon, delta } = budget.record(plan.accounting);
 */
import { CohortError } from '../../core/protocol/errors.js';
import { RdpAccountant, type RdpAccountantOptions, type SgmSteps } from './rdp-accountant.js';

export interface PrivacyReport {
  epsilon: number;
  delta: number;
  /** The RDP order at which ε was attained (NaN before the first round). */
  order: number;
  /** Rounds composed so far. */
  rounds: number;
}

export type RoundCheck = { ok: true; epsilonAfter: number } | { ok: false; epsilonAfter: number; reason: string };

export interface PrivacyBudgetOptions extends RdpAccountantOptions {
  delta: number;
  /** The largest ε the run may reach; no cap when undefined. */
  epsilonBudget?: number;
  /** Rounds already composed, e.g. from a checkpoint (RdpAccountant.history()). */
  history?: readonly SgmSteps[];
}

export class PrivacyBudget {
  readonly delta: number;
  readonly epsilonBudget: number | undefined;
  private readonly accountant: RdpAccountant;

  constructor(options: PrivacyBudgetOptions) {
    if (!(options.delta > 0 && options.delta < 1)) throw new CohortError('E_CONFIG_INVALID', `δ must be in (0, 1), got ${options.delta}`);
    if (options.epsilonBudget !== undefined && !(options.epsilonBudget > 0)) {
      throw new CohortError('E_CONFIG_INVALID', `epsilonBudget must be > 0, got ${options.epsilonBudget}`);
    }
    this.delta = options.delta;
    this.epsilonBudget = options.epsilonBudget;
    this.accountant = RdpAccountant.fromHistory(options.history ?? [], options.orders === undefined ? {} : { orders: options.orders });
  }

  /** Whether one more round with this (q, σ) stays within the budget, and the ε it would reach. */
  check(step: SgmSteps): RoundCheck {
    const epsilonAfter = this.accountant.epsilonAfter(step, this.delta).epsilon;
    if (this.epsilonBudget === undefined || epsilonAfter <= this.epsilonBudget) return { ok: true, epsilonAfter };
    const now = this.report().epsilon;
    return {
      ok: false,
      epsilonAfter,
      reason: `privacy budget reached: another round would raise ε from ${format(now)} to ${format(epsilonAfter)}, above the budget ε = ${this.epsilonBudget} (δ = ${this.delta})`,
    };
  }

  /** Throws E_PRIVACY_BUDGET, naming the round, when running it would exceed the budget. */
  assertRoundFits(round: number, step: SgmSteps): void {
    const check = this.check(step);
    if (!check.ok) {
      throw new CohortError('E_PRIVACY_BUDGET', `round ${round} not started: ${check.reason}`, {
        details: { round, epsilon: this.report().epsilon, epsilonAfter: check.epsilonAfter, epsilonBudget: this.epsilonBudget, delta: this.delta },
      });
    }
  }

  /** Composes one completed round and returns the (ε, δ) spent so far. */
  record(step: SgmSteps): PrivacyReport {
    this.accountant.step(step);
    return this.report();
  }

  /** The (ε, δ) spent so far. */
  report(): PrivacyReport {
    const { epsilon, order } = this.accountant.getEpsilon(this.delta);
    const rounds = this.accountant.history().reduce((n, e) => n + e.steps, 0);
    return { epsilon, delta: this.delta, order, rounds };
  }

  /** How many more rounds with this (q, σ) fit in the budget (`limit` when there is no budget). */
  roundsLeft(step: Omit<SgmSteps, 'steps'>, limit = 1_000_000): number {
    if (this.epsilonBudget === undefined) return limit;
    const fits = (k: number): boolean => k === 0 || this.accountant.epsilonAfter({ ...step, steps: k }, this.delta).epsilon <= this.epsilonBudget!;
    if (!fits(0) || !fits(1)) return 0;
    // ε grows with the number of rounds: double up, then bisect.
    let lo = 1;
    let hi = 2;
    while (hi <= limit && fits(hi)) {
      lo = hi;
      hi *= 2;
    }
    if (hi > limit) return fits(limit) ? limit : bisect(lo, limit, fits);
    return bisect(lo, hi, fits);
  }

  /** What to checkpoint to resume the accounting: the composed (q, σ, steps). */
  history(): Array<Required<SgmSteps>> {
    return this.accountant.history();
  }
}

/** The largest k in [lo, hi) with fits(k), given fits(lo) and not fits(hi). */
function bisect(lo: number, hi: number, fits: (k: number) => boolean): number {
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

function format(epsilon: number): string {
  return Number.isFinite(epsilon) ? epsilon.toFixed(3) : '∞';
}
