/**
 * The default hyperparameters of every strategy, in one place: the classes and the run-file
 * schema (strategy-spec.ts) both read them, so the documented defaults cannot drift apart.
 * Each strategy's file says where its defaults come from.
 */
export const STRATEGY_DEFAULTS = {
  /** Hsu et al. 2019 use β = 0.9; η = 1 keeps FedAvg's step before momentum builds up. */
  fedavgm: { serverLr: 1, momentum: 0.9 },
  /** Li et al. 2020 tune μ over {0.001, 0.01, 0.1, 1}. */
  fedprox: { mu: 0.01 },
  /** Reddi et al. 2021: β₁ = 0.9, β₂ = 0.99, τ = 10⁻³, η tuned (10⁻² is central for Adam/Yogi). */
  fedadam: { serverLr: 1e-2, beta1: 0.9, beta2: 0.99, tau: 1e-3 },
  fedyogi: { serverLr: 1e-2, beta1: 0.9, beta2: 0.99, tau: 1e-3 },
  /** Plain Adagrad (β₁ = 0, as Flower); η = 10⁻¹ since v only grows. */
  fedadagrad: { serverLr: 1e-1, beta1: 0, tau: 1e-3 },
  /** Flower's default trim fraction. */
  fedtrimmedavg: { beta: 0.2 },
  /** f = 0, m = 1: plain Krum. Set f to the number of attackers to tolerate. */
  krum: { byzantine: 0, keep: 1 },
} as const;
