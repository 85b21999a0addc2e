/**
 * What a worker does to its update when the run has differential privacy on, in one call:
 *
 *   1. clip the delta to L2 norm C (clip.ts);
 *   2. with distributed noise, add its share N(0, noiseStd²) to every coordinate (noise.ts);
 *   3. with adaptive clipping, append one extra coordinate: the centred unclipped bit b − ½
 *      (Andrew et al. 2021) plus, with distributed noise, its share of the bit's noise.
 *
 * The result goes into secure aggregation (or a plain update) with weight 1: DP bounds each
 * worker's contribution to the SUM by C, which example weights would break. The coordinator
 * (coordinator/privacy/dp-round.ts) decides the parameters each round and sends them in
 * `ClientDpParams`; the extra coordinate travels through SecAgg like any other, so the
 * coordinator learns only the (noised) count of unclipped updates.
 *
 * @example
 * const params = clientDpParamsSchema.parse(message.config.dp);
 * const { update } = privatizeUpdate(delta, params);   // send `update` instead of `delta`
 */
import type { ClientDpParams } from '../protocol/dp.js';
import { centredUnclippedBit, clipToNorm } from './clip.js';
import { addGaussianNoise, GaussianSampler, noisyScalar } from './noise.js';

// The parameters are part of the wire protocol, so they are declared there.
export { clientDpParamsSchema, type ClientDpParams } from '../protocol/dp.js';

export interface PrivatizedUpdate {
  /** The clipped (and noised) delta; one value longer when adaptive (the indicator is last). */
  update: Float32Array;
  /** ‖delta‖₂ before clipping (stays on the worker: for its own logs only). */
  norm: number;
  clipped: boolean;
}

export function privatizeUpdate(delta: Float32Array, params: ClientDpParams, sampler: GaussianSampler = new GaussianSampler()): PrivatizedUpdate {
  const { clipped, norm, scale } = clipToNorm(delta, params.clipNorm);
  const noised = addGaussianNoise(clipped, params.noiseStd, sampler);
  if (params.adaptive === undefined) return { update: noised, norm, clipped: scale < 1 };
  const update = new Float32Array(delta.length + 1);
  update.set(noised);
  update[delta.length] = noisyScalar(centredUnclippedBit(norm, params.clipNorm), params.adaptive.indicatorNoiseStd, sampler);
  return { update, norm, clipped: scale < 1 };
}
