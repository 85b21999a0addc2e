/**
 * FedNova's arithmetic, with the real worker-side normalisation (core/train/step-normalization.ts)
 * and the real coordinator-side scaling (coordinator/engine/fednova.ts), summed the way a plain
 * round sums (addScaledInto) and applied by the real FedAvg strategy:
 *   - with every worker doing the same number of steps it is today's FedAvg (bit for bit when τ is
 *     a power of two, where dividing and multiplying by τ is exact in floating point);
 *   - on a toy problem with heterogeneous steps it converges to the data-weighted optimum, where
 *     FedAvg weighted by the work done is pulled toward the fast worker.
 */
import { describe, expect, it } from 'vitest';
import { normalizeBySteps } from '../../../core/train/step-normalization.js';
import { effectiveSteps, fedNovaShare, fedNovaWeight, scaleByEffectiveSteps, countedSteps } from '../../../coordinator/engine/fednova.js';
import { FedAvg } from '../../../coordinator/strategy/fedavg.js';
import { addScaledInto } from '../../../coordinator/strategy/vector-math.js';

interface Contribution {
  delta: Float32Array;
  weight: number;
  steps: number;
}

/** Today's FedAvg: global + Σ wᵢdᵢ / Σ wᵢ. */
function fedAvg(global: Float32Array, contributions: readonly Contribution[]): Float32Array {
  const sum = new Float32Array(global.length);
  for (const c of contributions) addScaledInto(sum, c.delta, c.weight);
  const totalWeight = contributions.reduce((n, c) => n + c.weight, 0);
  return new FedAvg().aggregate(1, global, { weightedDeltaSum: sum, totalWeight, contributors: contributions.length });
}

/** FedNova as the system runs it: workers send dᵢ/τᵢ, the coordinator sums and scales by τ_eff. */
function fedNova(global: Float32Array, contributions: readonly Contribution[]): Float32Array {
  const sum = new Float32Array(global.length);
  for (const c of contributions) addScaledInto(sum, normalizeBySteps(c.delta, c.steps), c.weight);
  const totalWeight = contributions.reduce((n, c) => n + c.weight, 0);
  const tauEff = effectiveSteps(contributions.map((c) => ({ weight: c.weight, steps: c.steps })));
  return new FedAvg().aggregate(1, global, scaleByEffectiveSteps({ weightedDeltaSum: sum, totalWeight, contributors: contributions.length }, tauEff));
}

function vector(seed: number, length: number): Float32Array {
  return new Float32Array(length).map((_, i) => Math.sin(seed * 2.3 + i * 0.37) * 0.05);
}

describe('FedNova', () => {
  const global = vector(9, 257);
  const weights = [600, 300, 100, 1000];

  it('is exactly FedAvg when every worker does the same number of steps (τ a power of two)', () => {
    const contributions = weights.map((weight, i) => ({ delta: vector(i, global.length), weight, steps: 8 }));
    expect(Array.from(fedNova(global, contributions))).toEqual(Array.from(fedAvg(global, contributions)));
  });

  it('is FedAvg up to float32 rounding when every worker does the same number of steps (any τ)', () => {
    const contributions = weights.map((weight, i) => ({ delta: vector(i, global.length), weight, steps: 7 }));
    const nova = fedNova(global, contributions);
    const avg = fedAvg(global, contributions);
    for (let i = 0; i < avg.length; i++) expect(Math.abs(nova[i]! - avg[i]!)).toBeLessThanOrEqual(4 * 2 ** -24 * (Math.abs(avg[i]!) + 0.05));
  });

  it('converges to the data-weighted optimum with heterogeneous steps, where work-weighted FedAvg does not', () => {
    // Prepare: Fᵢ(x) = ½‖x − cᵢ‖², data shares pᵢ, local gradient descent for τᵢ steps. The fast
    // worker (40 steps a round) holds the least data.
    const centres = [Float32Array.from([1, 0]), Float32Array.from([0, 1]), Float32Array.from([-1, -1])];
    const shares = [600, 300, 100];
    const steps = [1, 5, 40];
    const lr = 0.001;
    const localDelta = (x: Float32Array, c: Float32Array, tau: number): Float32Array => {
      const local = x.slice();
      for (let k = 0; k < tau; k++) for (let j = 0; j < local.length; j++) local[j]! -= lr * (local[j]! - c[j]!);
      return local.map((v, j) => v - x[j]!);
    };
    const run = (aggregateRound: (x: Float32Array, cs: Contribution[]) => Float32Array, weightOf: (i: number) => number): Float32Array => {
      let x: Float32Array = new Float32Array(2);
      for (let round = 0; round < 3_000; round++) {
        x = aggregateRound(x, centres.map((c, i) => ({ delta: localDelta(x, c, steps[i]!), weight: weightOf(i), steps: steps[i]! })));
      }
      return x;
    };
    const total = shares.reduce((a, b) => a + b, 0);
    const optimum = [0, 1].map((j) => centres.reduce((n, c, i) => n + (shares[i]! / total) * c[j]!, 0));
    const distance = (x: Float32Array): number => Math.hypot(x[0]! - optimum[0]!, x[1]! - optimum[1]!);

    // Execute: FedNova with the data shares; FedAvg with weights ∝ examples processed (∝ τᵢ).
    const nova = run(fedNova, (i) => shares[i]!);
    const workWeighted = run(fedAvg, (i) => steps[i]! * 32);

    // Assert: the centres are 1.4–2.2 apart; FedNova lands within 0.01 of the optimum, FedAvg-by-work far off.
    expect(distance(nova)).toBeLessThan(0.01);
    expect(distance(workWeighted)).toBeGreaterThan(0.5);
  });

  it('weighs a worker by its data share, whatever steps it was given, within the run’s bound', () => {
    const base = { localEpochs: 2, batchSize: 32, maxLocalSteps: undefined };
    expect(fedNovaShare(base, 300, 10_000)).toBe(600);
    expect(fedNovaShare({ ...base, maxLocalSteps: 5 }, 300, 10_000)).toBe(160);
    expect(fedNovaShare(base, 1e12, 10_000)).toBe(10_000);
    expect(fedNovaWeight(600, undefined, 10_000)).toBe(600);
    expect(fedNovaWeight(600, { weightCap: 1_200 }, 1)).toBe(0.5);
    // τᵢ counts the declared steps, never more than were assigned, never below 1.
    expect([countedSteps(1_000, 30), countedSteps(0, 30), countedSteps(12, 30), countedSteps(12, undefined)]).toEqual([30, 1, 12, 12]);
  });
});
