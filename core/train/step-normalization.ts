/**
 * The worker's half of FedNova (Wang et al. 2020, "Tackling the Objective Inconsistency Problem
 * in Heterogeneous Federated Optimization"), used when a run gives workers different numbers of
 * local steps (targetRoundSeconds). For plain local SGD the normalised update is dᵢ/τᵢ: the
 * delta divided by the steps taken. The coordinator aggregates these with each worker's data
 * share pᵢ and multiplies the result by τ_eff = Σ pᵢτᵢ / Σ pᵢ (coordinator/engine/fednova.ts).
 *
 * The division happens on the worker, before anything leaves it, so that a SecAgg+ round (where
 * the coordinator only ever sees Σ pᵢ·(dᵢ/τᵢ)) and a plain round do exactly the same thing.
 */

/** dᵢ/τᵢ, as a new array; a worker that took no step (no data) divides by 1 (its delta is 0). */
export function normalizeBySteps(delta: Float32Array, steps: number): Float32Array {
  const tau = Math.max(1, Math.floor(steps));
  if (tau === 1) return delta.slice();
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) out[i] = delta[i]! / tau;
  return out;
}

/**
 * A worker's SecAgg+ weight, in (0, 1] as SecAgg+ needs: 1 under differential privacy (the clip
 * norm bounds each share); under FedNova its share `weightExamples` over the weight cap; else the
 * examples it processed over the cap.
 */
export function secureInputWeight(config: { dp?: unknown; fedNova?: { weightExamples: number } | undefined }, examples: number, weightCap: number): number {
  if (config.dp !== undefined) return 1;
  return Math.max(1e-9, Math.min(1, (config.fedNova?.weightExamples ?? examples) / weightCap));
}

/** A training result with its delta normalised when the round's instructions ask for FedNova. */
export function withNormalizedDelta<T extends { delta: Float32Array; steps: number }>(result: T, config: { fedNova?: unknown }): T {
  return config.fedNova === undefined ? result : { ...result, delta: normalizeBySteps(result.delta, result.steps) };
}
