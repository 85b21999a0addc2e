/**
 * Server-side optimizer maths, as pure functions over Float32Arrays, for the strategies that treat
 * a round's mean update as a gradient: FedAvgM (Hsu et al. 2019) and FedOpt (Reddi et al.,
 * "Adaptive Federated Optimization", ICLR 2021, Algorithm 2).
 *
 * Sign convention. Here the PSEUDO-GRADIENT is g = −Δ̄ = global − mean(local models), minus the
 * mean delta, so every rule below descends: x ← x − η·(…). Reddi et al. write Algorithm 2 with
 * Δ_t = +mean delta and x ← x + η·m/(√v + τ). Both give the same model: m is linear in Δ (so it
 * only flips sign), and v only ever sees Δ² (Adam, Adagrad) or sign(v − Δ²) (Yogi).
 *
 * The state vectors (velocity, m, v) are updated in place; the model is never modified.
 *
 * @example
 * const g = pseudoGradient(result.weightedDeltaSum, result.totalWeight);
 * firstMomentStep(m, g, 0.9);
 * adamSecondMoment(v, g, 0.99);
 * const next = adaptiveDescend(global, m, v, 0.01, 1e-3);
 */

function sameLength(...xs: Float32Array[]): void {
  const n = xs[0]!.length;
  for (const x of xs) {
    if (x.length !== n) throw new RangeError(`length mismatch: ${n} vs ${x.length}`);
  }
}

/** g = −Σwᵢ·deltaᵢ / Σwᵢ: the descent direction's opposite, as in Flower's FedOpt. */
export function pseudoGradient(weightedDeltaSum: Float32Array, totalWeight: number): Float32Array {
  if (!(totalWeight > 0)) throw new RangeError(`total weight must be positive, got ${totalWeight}`);
  const g = new Float32Array(weightedDeltaSum.length);
  const scale = -1 / totalWeight;
  for (let i = 0; i < g.length; i++) g[i] = scale * weightedDeltaSum[i]!;
  return g;
}

/** Heavy-ball momentum (Hsu et al. 2019, FedAvgM): velocity ← β·velocity + g, in place. */
export function momentumStep(velocity: Float32Array, g: Float32Array, momentum: number): Float32Array {
  sameLength(velocity, g);
  for (let i = 0; i < g.length; i++) velocity[i] = momentum * velocity[i]! + g[i]!;
  return velocity;
}

/** m ← β₁·m + (1 − β₁)·g, in place (Reddi et al., Algorithm 2, all three variants). */
export function firstMomentStep(m: Float32Array, g: Float32Array, beta1: number): Float32Array {
  sameLength(m, g);
  for (let i = 0; i < g.length; i++) m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
  return m;
}

/** FedAdam: v ← β₂·v + (1 − β₂)·g², in place. */
export function adamSecondMoment(v: Float32Array, g: Float32Array, beta2: number): Float32Array {
  sameLength(v, g);
  for (let i = 0; i < g.length; i++) {
    const g2 = g[i]! * g[i]!;
    v[i] = beta2 * v[i]! + (1 - beta2) * g2;
  }
  return v;
}

/**
 * FedYogi (Zaheer et al. 2018's Yogi on the server): v ← v − (1 − β₂)·g²·sign(v − g²), in place.
 * Unlike Adam, v moves additively towards g², so a burst of large updates cannot blow it up.
 */
export function yogiSecondMoment(v: Float32Array, g: Float32Array, beta2: number): Float32Array {
  sameLength(v, g);
  for (let i = 0; i < g.length; i++) {
    const g2 = g[i]! * g[i]!;
    v[i] = v[i]! - (1 - beta2) * g2 * Math.sign(v[i]! - g2);
  }
  return v;
}

/** FedAdagrad: v ← v + g², in place. */
export function adagradSecondMoment(v: Float32Array, g: Float32Array): Float32Array {
  sameLength(v, g);
  for (let i = 0; i < g.length; i++) v[i] = v[i]! + g[i]! * g[i]!;
  return v;
}

/** x − lr·direction (a new array). */
export function descend(x: Float32Array, direction: Float32Array, lr: number): Float32Array {
  sameLength(x, direction);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! - lr * direction[i]!;
  return out;
}

/** x − lr·m / (√v + τ) (a new array); τ keeps the step finite where v is tiny. */
export function adaptiveDescend(x: Float32Array, m: Float32Array, v: Float32Array, lr: number, tau: number): Float32Array {
  sameLength(x, m, v);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! - (lr * m[i]!) / (Math.sqrt(v[i]!) + tau);
  return out;
}
