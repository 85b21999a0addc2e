/**
 * The RDP accountant against reference values. Every row says where its value comes from:
 *
 * - [opacus-test]  pytorch/opacus @ 4d0ebc84613d214fbfd37fbfd1390e3747a625ce,
 *                  opacus/tests/accountants_test.py, AccountingTest.test_rdp_accountant
 * - [opacus-doc]   same commit, opacus/accountants/analysis/rdp.py, the module docstring's doctest
 * - [tfp-sgd]      tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462,
 *                  tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py,
 *                  ComputeDpSgdPrivacyTest.test_compute_dp_sgd_privacy (Test0, Test1, Test2); these use
 *                  compute_dp_sgd_privacy's orders [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
 *                  5..63, 128, 256, 512], q = batch/n and steps = ⌈epochs·n/batch⌉
 * - [tfp-example]  same file, ComputeDpSgdPrivacyTest.test_compute_dp_sgd_example_privacy (the four
 *                  `_rdp` cases): epochs 1.2, σ = 0.7 (halved "with microbatching"), δ = 1e-5,
 *                  steps = ⌈1.2/q⌉ with q = 0.01, or ⌈1.2⌉ = 2 Gaussian steps without subsampling;
 *                  dp-accounting's default orders (1.1..10.9, 11..63, 128, 256, 512, 1024)
 * - [tfp-statement] same file, test_dp_sgd_privacy_statement_no_user_dp_with_rdp: "Epsilon assuming
 *                  Poisson sampling: 1.616" for n = 10000, batch 64, 5 epochs, σ = 2.0 with
 *                  microbatching (so 1.0), δ = 1e-6: q = 0.0064, steps = ⌈5/0.0064⌉ = 782
 * - [tfp-rdp]      tensorflow/privacy @ db292fc5d8dbf28b692137b85e5b3f922062ea43 (the last commit with
 *                  the file), tensorflow_privacy/privacy/analysis/rdp_accountant_test.py,
 *                  TestGaussianMoments.test_compute_rdp_sequence and test_compute_rdp_scalar
 * - [dpa-test]     google/differential-privacy @ b5b0286e313b64a692abfc8c528d54ef47d960a0,
 *                  python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py,
 *                  test_compute_epsilon_delta_pure_dp and test_compute_epsilon_delta_gaussian
 * - [opacus-run]   computed by running Opacus's own analysis (opacus/accountants/analysis/rdp.py @
 *                  4d0ebc84613d214fbfd37fbfd1390e3747a625ce: compute_rdp + get_privacy_spent with
 *                  RDPAccountant.DEFAULT_ALPHAS) under numpy 2.4.6 / scipy 1.17.1, with
 *                  test/coordinator/privacy/reference/opacus_reference.py (PyPI was unreachable here, so the
 *                  module was loaded from a checkout; it needs only numpy and scipy)
 *
 * Two [tfp-example] rows (marked) have their optimal order on a fractional α. Since 2024 the
 * dp-accounting library behind them adds |C(α, i)| in the fractional-order series, a slightly
 * larger upper bound; the exact signed series (Mironov et al. 2019 §3.3, Opacus, and this code)
 * gives the values the same test held before that change (3.2391922 and 22.5970358). Both are
 * within the 1% the issue asks for, which is the tolerance used throughout.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RDP_ORDERS, epsilonFor, epsilonFromRdpBalle2020, RdpAccountant } from '../../../coordinator/privacy/rdp-accountant.js';
import { sgmRdp, sgmRdpAt } from '../../../coordinator/privacy/sgm-rdp.js';

const TF_SGD_ORDERS = [1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5, ...Array.from({ length: 59 }, (_, k) => 5 + k), 128, 256, 512];
const DPA_DEFAULT_ORDERS = [...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10), ...Array.from({ length: 53 }, (_, k) => 11 + k), 128, 256, 512, 1024];

interface ReferenceRow {
  source: string;
  q: number;
  sigma: number;
  steps: number;
  delta: number;
  epsilon: number;
  orders?: readonly number[];
}

const REFERENCE: ReferenceRow[] = [
  { source: 'opacus-test', q: 0.04, sigma: 1.5, steps: 2250, delta: 1e-5, epsilon: 7.32911117143 },
  { source: 'tfp-sgd Test0', q: 150 / 60000, sigma: 1.3, steps: 6000, delta: 1e-5, epsilon: 0.7242234026109595, orders: TF_SGD_ORDERS },
  { source: 'tfp-sgd Test1', q: 100 / 100000, sigma: 1.0, steps: 30000, delta: 1e-7, epsilon: 1.4154988495444842, orders: TF_SGD_ORDERS },
  { source: 'tfp-sgd Test2', q: 1024 / 1e8, sigma: 0.1, steps: 976563, delta: 1e-7, epsilon: 5907982.3113984, orders: TF_SGD_ORDERS },
  { source: 'tfp-example no_microbatching_with_subsampling_rdp (fractional α)', q: 0.01, sigma: 0.7, steps: 120, delta: 1e-5, epsilon: 3.2392676, orders: DPA_DEFAULT_ORDERS },
  { source: 'tfp-example microbatching_with_subsampling_rdp (fractional α)', q: 0.01, sigma: 0.35, steps: 120, delta: 1e-5, epsilon: 22.6248601, orders: DPA_DEFAULT_ORDERS },
  { source: 'tfp-example no_microbatching_no_subsampling_rdp', q: 1, sigma: 0.7, steps: 2, delta: 1e-5, epsilon: 10.8602036, orders: DPA_DEFAULT_ORDERS },
  { source: 'tfp-example microbatching_no_subsampling_rdp', q: 1, sigma: 0.35, steps: 2, delta: 1e-5, epsilon: 26.2880374, orders: DPA_DEFAULT_ORDERS },
  { source: 'tfp-statement', q: 0.0064, sigma: 1.0, steps: 782, delta: 1e-6, epsilon: 1.616, orders: DPA_DEFAULT_ORDERS },
  // [opacus-run] rows: federated-style settings; optimal orders range from 1.3 to 36.
  { source: 'opacus-run', q: 0.1, sigma: 1.0, steps: 100, delta: 1e-5, epsilon: 7.899255002434629 },
  { source: 'opacus-run', q: 0.1, sigma: 1.0, steps: 1000, delta: 1e-5, epsilon: 27.163494340026986 },
  { source: 'opacus-run', q: 0.01, sigma: 0.8, steps: 1000, delta: 1e-5, epsilon: 3.695428832544017 },
  { source: 'opacus-run', q: 0.05, sigma: 1.2, steps: 200, delta: 1e-6, epsilon: 4.284609977060079 },
  { source: 'opacus-run', q: 0.5, sigma: 2.0, steps: 50, delta: 1e-5, epsilon: 10.277893380848077 },
  { source: 'opacus-run', q: 0.001, sigma: 1.1, steps: 10000, delta: 1e-5, epsilon: 0.6321381775209115 },
  { source: 'opacus-run', q: 0.2, sigma: 0.6, steps: 30, delta: 1e-5, epsilon: 23.195431541521465 },
  { source: 'opacus-run', q: 0.3, sigma: 0.5, steps: 100, delta: 1e-5, epsilon: 90.25793172510087 },
  { source: 'opacus-run', q: 0.01, sigma: 3.0, steps: 1000, delta: 1e-5, epsilon: 0.41912538179151176 },
  { source: 'opacus-run', q: 0.02, sigma: 1.0, steps: 500, delta: 1e-5, epsilon: 3.1442564752172406 },
  { source: 'opacus-run', q: 1.0, sigma: 5.0, steps: 10, delta: 1e-5, epsilon: 2.8136532471298397 },
];

describe('RDP accountant: ε against the reference table (within 1%)', () => {
  it.each(REFERENCE)('$source: q=$q σ=$sigma steps=$steps δ=$delta → ε=$epsilon', (row) => {
    // Execute
    const { epsilon } = epsilonFor(row);
    // Assert
    expect(Math.abs(epsilon / row.epsilon - 1)).toBeLessThan(0.01);
  });

  it('accumulates step by step to the same ε as one composed call ([opacus-test] steps one at a time)', () => {
    const accountant = new RdpAccountant();
    for (let i = 0; i < 2250; i++) accountant.step({ q: 0.04, sigma: 1.5 });
    expect(Math.abs(accountant.getEpsilon(1e-5).epsilon / 7.32911117143 - 1)).toBeLessThan(0.01);
    expect(accountant.history()).toEqual([{ q: 0.04, sigma: 1.5, steps: 2250 }]);
  });

  it('composes heterogeneous steps ([opacus-doc]: (1e-5, 1.0, 10) then (1e-4, 3.0, 4), orders 2..32 → 0.336 at order 23)', () => {
    const orders = Array.from({ length: 31 }, (_, k) => 2 + k);
    const accountant = new RdpAccountant({ orders }).step({ q: 1e-5, sigma: 1.0, steps: 10 }).step({ q: 1e-4, sigma: 3.0, steps: 4 });
    const { epsilon, order } = accountant.getEpsilon(1e-5);
    expect(Math.abs(epsilon / 0.336 - 1)).toBeLessThan(0.01);
    expect(order).toBe(23);
  });
});

describe('RDP of the sampled Gaussian mechanism', () => {
  it('matches [tfp-rdp] test_compute_rdp_sequence (q = 0.01, σ = 2.5, 50 steps; rtol 1e-4)', () => {
    const rdp = sgmRdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]);
    const expected = [6.5007e-4, 1.0854e-3, 2.1808e-3, 2.3846e-2, 1.6742e2];
    expected.forEach((e, k) => expect(Math.abs(rdp[k]! / e - 1)).toBeLessThan(1e-4));
    expect(sgmRdpAt(0.01, 2.5, Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('matches [tfp-rdp] test_compute_rdp_scalar (q = 0.1, σ = 2, 10 steps, α = 5 → 0.07737)', () => {
    expect(sgmRdp(0.1, 2, 10, [5])[0]).toBeCloseTo(0.07737, 5);
  });

  it('is the Gaussian mechanism’s α/(2σ²) at q = 1 (closed form)', () => {
    for (const alpha of [1.1, 2, 3.7, 32]) {
      for (const sigma of [0.5, 1, 4.2]) expect(sgmRdpAt(1, sigma, alpha)).toBe(alpha / (2 * sigma * sigma));
    }
    // …and the general expansion tends to it as q → 1.
    expect(sgmRdpAt(1 - 1e-9, 2, 8) / (8 / (2 * 4))).toBeCloseTo(1, 6);
  });

  it('joins up between integer and fractional orders (the two expansions agree)', () => {
    for (const [q, sigma] of [[0.01, 1], [0.1, 0.8], [0.3, 2]] as const) {
      for (const alpha of [2, 3, 7]) {
        const exact = sgmRdpAt(q, sigma, alpha);
        expect(sgmRdpAt(q, sigma, alpha + 1e-7) / exact).toBeCloseTo(1, 5);
        expect(sgmRdpAt(q, sigma, alpha - 1e-7) / exact).toBeCloseTo(1, 5);
      }
    }
  });

  it('is 0 without sampling and infinite without noise', () => {
    expect(sgmRdpAt(0, 1, 2)).toBe(0);
    expect(sgmRdpAt(0.1, 0, 2)).toBe(Number.POSITIVE_INFINITY);
    expect(epsilonFor({ q: 0.1, sigma: 0, steps: 1, delta: 1e-5 }).epsilon).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('RDP → (ε, δ): Balle et al. 2020, Theorem 21', () => {
  it('matches [dpa-test] test_compute_epsilon_delta_pure_dp (constant RDP 1.1 on orders 2..32, δ = 1e-5)', () => {
    const orders = Array.from({ length: 31 }, (_, k) => 2 + k);
    const { epsilon, order } = epsilonFromRdpBalle2020(orders, orders.map(() => 1.1), 1e-5);
    expect(epsilon).toBeCloseTo(1.32783806176, 9);
    expect(order).toBe(32);
  });

  it('matches [dpa-test] test_compute_epsilon_delta_gaussian (σ = 4.530877117 is exactly (1, 1e-6)-DP)', () => {
    const orders = Array.from({ length: 98_999 }, (_, i) => 0.001 * (i + 1001));
    const { epsilon } = epsilonFromRdpBalle2020(orders, sgmRdp(1, 4.530877117, 1, orders), 1e-6);
    expect(epsilon).toBeCloseTo(1, 7);
  });

  it('reports ε = 0 before any step', () => {
    expect(new RdpAccountant().getEpsilon(1e-5).epsilon).toBe(0);
  });
});

describe('monotonicity', () => {
  const base = { q: 0.05, sigma: 1.1, steps: 200, delta: 1e-5 };
  const eps = (p: Partial<typeof base>): number => epsilonFor({ ...base, ...p }).epsilon;

  it('ε grows with the number of steps', () => {
    const values = [1, 10, 100, 1000, 10_000].map((steps) => eps({ steps }));
    values.slice(1).forEach((v, i) => expect(v).toBeGreaterThan(values[i]!));
  });

  it('ε grows with the sampling rate', () => {
    const values = [0.001, 0.01, 0.05, 0.2, 0.7, 1].map((q) => eps({ q }));
    values.slice(1).forEach((v, i) => expect(v).toBeGreaterThan(values[i]!));
  });

  it('ε shrinks as the noise grows', () => {
    const values = [0.4, 0.6, 0.8, 1, 1.5, 3, 10].map((sigma) => eps({ sigma }));
    values.slice(1).forEach((v, i) => expect(v).toBeLessThan(values[i]!));
  });

  it('ε shrinks as δ grows', () => {
    const values = [1e-10, 1e-7, 1e-5, 1e-3].map((delta) => eps({ delta }));
    values.slice(1).forEach((v, i) => expect(v).toBeLessThan(values[i]!));
  });

  it('RDP grows with the order', () => {
    const rdp = sgmRdp(0.05, 1.1, 1, DEFAULT_RDP_ORDERS);
    for (let k = 1; k < rdp.length; k++) expect(rdp[k]!).toBeGreaterThan(rdp[k - 1]!);
  });
});

describe('RdpAccountant bookkeeping', () => {
  it('epsilonAfter looks ahead without composing', () => {
    const accountant = new RdpAccountant().step({ q: 0.1, sigma: 1, steps: 99 });
    const ahead = accountant.epsilonAfter({ q: 0.1, sigma: 1 }, 1e-5);
    expect(accountant.history()).toEqual([{ q: 0.1, sigma: 1, steps: 99 }]);
    accountant.step({ q: 0.1, sigma: 1 });
    expect(accountant.getEpsilon(1e-5)).toEqual(ahead);
  });

  it('rebuilds from its history (e.g. after a checkpoint)', () => {
    const original = new RdpAccountant().step({ q: 0.1, sigma: 1, steps: 5 }).step({ q: 0.2, sigma: 1.5, steps: 3 }).step({ q: 0.2, sigma: 1.5 });
    expect(original.history()).toEqual([
      { q: 0.1, sigma: 1, steps: 5 },
      { q: 0.2, sigma: 1.5, steps: 4 },
    ]);
    const rebuilt = RdpAccountant.fromHistory(original.history());
    const a = rebuilt.rdp();
    const b = original.rdp();
    b.forEach((r, k) => expect(a[k]! / r).toBeCloseTo(1, 12));
    expect(rebuilt.getEpsilon(1e-5).epsilon).toBeCloseTo(original.getEpsilon(1e-5).epsilon, 10);
  });

  it('uses Opacus’s default orders: 1.1…10.9 and 12…63', () => {
    expect(DEFAULT_RDP_ORDERS).toHaveLength(151);
    expect(DEFAULT_RDP_ORDERS[0]).toBe(1.1);
    expect(DEFAULT_RDP_ORDERS[98]).toBe(10.9);
    expect(DEFAULT_RDP_ORDERS[99]).toBe(12);
    expect(DEFAULT_RDP_ORDERS.at(-1)).toBe(63);
  });

  it('refuses orders ≤ 1 and δ outside (0, 1)', () => {
    expect(() => new RdpAccountant({ orders: [1, 2] })).toThrow(RangeError);
    expect(() => new RdpAccountant().step({ q: 0.1, sigma: 1 }).getEpsilon(0)).toThrow(RangeError);
    expect(() => new RdpAccountant().step({ q: 1.5, sigma: 1 })).toThrow(RangeError);
  });
});
