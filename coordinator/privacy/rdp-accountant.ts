/**
 * An RDP accountant for the Sampled Gaussian Mechanism: composes the rounds' RDP at a fixed set of
 * orders and converts the total to (ε, δ)-DP.
 *
 * In a federated run one round is one SGM step at the USER level: each worker's clipped update
 * is a "record", q is the chance that a given worker is in the round, and σ is the noise
 * multiplier (noise std ÷ clip norm) of the noise on the sum. With fixed-size selection of
 * `clientsPerRound` out of a population P, q = clientsPerRound / P is the usual approximation of
 * Poisson sampling (McMahan et al. 2018, "Learning Differentially Private Recurrent Language
 * Models", and Opacus make the same one).
 *
 * RDP → (ε, δ): the conversion of Balle, Barthe, Gaboardi, Hsu and Sato, "Hypothesis Testing
 * Interpretations and Rényi Differential Privacy" (AISTATS 2020), Theorem 21:
 *
 *   ε = RDP(α) + log((α − 1)/α) − (log δ + log α)/(α − 1),
 *
 * minimised over the orders. It is tighter than Mironov 2017's RDP(α) + log(1/δ)/(α − 1), and is
 * what Opacus and Google's dp-accounting use.
 *
 * @example
 * const accountant = new RdpAccountant();
 * accountant.step({ q: 0.01, sigma: 1.1, steps: 1 });   // after each round
 * accountant.getEpsilon(1e-5);                          // { epsilon, order }
 * epsilonFor({ q: 0.01, sigma: 1.1, steps: 100, delta: 1e-5 });
 */
import { sgmRdp } from './sgm-rdp.js';

/**
 * Opacus's default orders (RDPAccountant.DEFAULT_ALPHAS): 1.1, 1.2, …, 10.9 and 12, 13, …, 63.
 * Fractional orders near 1 matter for large ε, large integer orders for small ε.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, k) => 12 + k),
]);

/** Some steps of the SGM with one (q, σ). */
export interface SgmSteps {
  /** Sampling rate: the probability that a given record (worker) takes part in a step. */
  q: number;
  /** Noise multiplier: noise std on the sum ÷ L2 sensitivity (the clip norm). */
  sigma: number;
  /** How many steps (rounds); default 1. */
  steps?: number;
}

export interface EpsilonResult {
  epsilon: number;
  /** The RDP order that gave the smallest ε (NaN when ε is infinite). */
  order: number;
}

/**
 * Balle et al. 2020, Theorem 21: the smallest ε over the orders such that the mechanism with these
 * RDP values is (ε, δ)-DP. Orders with infinite RDP are skipped; ε is clamped at 0.
 */
export function epsilonFromRdpBalle2020(orders: readonly number[], rdp: ArrayLike<number>, delta: number): EpsilonResult {
  if (orders.length !== rdp.length) throw new RangeError(`${orders.length} orders but ${rdp.length} RDP values`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`δ must be in (0, 1), got ${delta}`);
  let best: EpsilonResult = { epsilon: Number.POSITIVE_INFINITY, order: Number.NaN };
  for (let k = 0; k < orders.length; k++) {
    const alpha = orders[k]!;
    const r = rdp[k]!;
    if (!Number.isFinite(r)) continue;
    const eps = r + Math.log((alpha - 1) / alpha) - (Math.log(delta) + Math.log(alpha)) / (alpha - 1);
    if (eps < best.epsilon) best = { epsilon: eps, order: alpha };
  }
  return best.epsilon < 0 ? { epsilon: 0, order: best.order } : best;
}

function checkOrders(orders: readonly number[]): readonly number[] {
  if (orders.length === 0) throw new RangeError('at least one RDP order is needed');
  for (const a of orders) {
    if (!(a > 1) || !Number.isFinite(a)) throw new RangeError(`RDP orders must be finite and > 1, got ${a}`);
  }
  return Object.freeze([...orders]);
}

export interface RdpAccountantOptions {
  /** The orders α at which RDP is tracked; default DEFAULT_RDP_ORDERS. */
  orders?: readonly number[];
}

export class RdpAccountant {
  readonly orders: readonly number[];
  private readonly total: Float64Array;
  private readonly log: Array<Required<SgmSteps>> = [];
  // One-step RDP of the last (q, σ) seen: a run steps with the same pair every round.
  private cached: { q: number; sigma: number; rdp: Float64Array } | undefined;

  constructor(options: RdpAccountantOptions = {}) {
    this.orders = checkOrders(options.orders ?? DEFAULT_RDP_ORDERS);
    this.total = new Float64Array(this.orders.length);
  }

  /** An accountant that has already composed `history` (e.g. restored from a checkpoint). */
  static fromHistory(history: readonly SgmSteps[], options: RdpAccountantOptions = {}): RdpAccountant {
    const accountant = new RdpAccountant(options);
    for (const entry of history) accountant.step(entry);
    return accountant;
  }

  /** RDP of one step at every order (cached for the last (q, σ)). */
  private oneStep(q: number, sigma: number): Float64Array {
    if (this.cached?.q !== q || this.cached.sigma !== sigma) this.cached = { q, sigma, rdp: sgmRdp(q, sigma, 1, this.orders) };
    return this.cached.rdp;
  }

  /** Composes `steps` more steps of the SGM with (q, σ). */
  step({ q, sigma, steps = 1 }: SgmSteps): this {
    if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`steps must be an integer ≥ 0, got ${steps}`);
    if (steps === 0) return this;
    const one = this.oneStep(q, sigma);
    for (let k = 0; k < one.length; k++) this.total[k]! += steps * one[k]!;
    const last = this.log.at(-1);
    if (last && last.q === q && last.sigma === sigma) last.steps += steps;
    else this.log.push({ q, sigma, steps });
    return this;
  }

  /** The (ε, order) spent so far at this δ (Balle et al. 2020, Theorem 21). */
  getEpsilon(delta: number): EpsilonResult {
    if (this.log.length === 0) return { epsilon: 0, order: Number.NaN };
    return epsilonFromRdpBalle2020(this.orders, this.total, delta);
  }

  /** What getEpsilon would return after composing `next` too; the accountant is not changed. */
  epsilonAfter(next: SgmSteps, delta: number): EpsilonResult {
    const steps = next.steps ?? 1;
    const one = this.oneStep(next.q, next.sigma);
    const rdp = this.total.map((r, k) => r + steps * one[k]!);
    return epsilonFromRdpBalle2020(this.orders, rdp, delta);
  }

  /** The total RDP at each order (a copy). */
  rdp(): Float64Array {
    return this.total.slice();
  }

  /** Every composed (q, σ, steps), consecutive equal pairs merged: enough to rebuild the accountant. */
  history(): Array<Required<SgmSteps>> {
    return this.log.map((e) => ({ ...e }));
  }
}

/** ε after `steps` steps of the SGM with (q, σ), at δ. */
export function epsilonFor(params: { q: number; sigma: number; steps: number; delta: number; orders?: readonly number[] }): EpsilonResult {
  const orders = checkOrders(params.orders ?? DEFAULT_RDP_ORDERS);
  return epsilonFromRdpBalle2020(orders, sgmRdp(params.q, params.sigma, params.steps, orders), params.delta);
}
