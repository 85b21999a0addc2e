// Shared fixtures for the SecAgg+ suites: ethers identities (EIP-191), seeded inputs, and the
// exact weighted sum to compare against.
import { Wallet, verifyMessage } from 'ethers';
import { expect } from 'vitest';
import { createRandom } from '../../../core/data/random.js';
import type { SecAggSign, SecAggVerify } from '../../../core/secagg/client.js';
import { quantizationBound, type QuantizationParams } from '../../../core/secagg/quantize.js';
import type { SimulatedInput } from '../../../core/secagg/in-process-round.js';

export interface Identities {
  ids: string[];
  wallets: Map<string, Wallet>;
  identity: { sign: (id: string) => SecAggSign; verify: SecAggVerify };
}

/** n random wallets; ids are their checksummed addresses, sorted. */
export function makeIdentities(n: number): Identities {
  const wallets = new Map<string, Wallet>();
  for (let i = 0; i < n; i++) {
    const w = Wallet.createRandom();
    wallets.set(w.address, new Wallet(w.privateKey));
  }
  const verify: SecAggVerify = (bytes, signature, id) => {
    try {
      return verifyMessage(bytes, signature) === id;
    } catch {
      return false;
    }
  };
  return {
    ids: [...wallets.keys()].sort(),
    wallets,
    identity: { sign: (id) => (bytes) => wallets.get(id)!.signMessage(bytes), verify },
  };
}

/** Seeded updates in [−1.2, 1.2] (some get clipped at 1) with weights in (0.05, 1]. */
export function makeInputs(ids: readonly string[], dimension: number, seed = 1): SimulatedInput[] {
  const rng = createRandom(seed);
  return ids.map((id) => ({
    id,
    vector: Float32Array.from({ length: dimension }, () => (rng() * 2 - 1) * 1.2),
    weight: 0.05 + 0.95 * rng(),
  }));
}

/** Exact Σ w·clip(x) and Σ w over the given contributors, in float64. */
export function weightedSum(inputs: readonly SimulatedInput[], clipRange: number): { sum: Float64Array; totalWeight: number } {
  const sum = new Float64Array(inputs[0]!.vector.length);
  let totalWeight = 0;
  for (const { vector, weight } of inputs) {
    totalWeight += weight;
    for (let i = 0; i < sum.length; i++) sum[i]! += weight * Math.max(-clipRange, Math.min(clipRange, vector[i]!));
  }
  return { sum, totalWeight };
}

/** Assert that a SecAgg result matches the contributors' exact weighted sum within the quantization bound. */
export function expectWithinBound(
  result: { sum: Float32Array; totalWeight: number; contributors: number },
  contributors: readonly SimulatedInput[],
  p: QuantizationParams,
): void {
  const exact = weightedSum(contributors, p.clipRange);
  const bound = quantizationBound({ ...p, contributors: contributors.length });
  expect(result.contributors).toBe(contributors.length);
  expect(Math.abs(result.totalWeight - exact.totalWeight)).toBeLessThanOrEqual(bound.totalWeight);
  let worst = 0;
  for (let i = 0; i < exact.sum.length; i++) worst = Math.max(worst, Math.abs(result.sum[i]! - exact.sum[i]!));
  expect(worst).toBeLessThanOrEqual(bound.perCoordinate);
}
