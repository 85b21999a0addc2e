/**
 * A model's weights as one Float32Array, in `model.weights` order (trainable and non-trainable),
 * which is what travels on the wire and what strategies and secure aggregation work on.
 */
import * as tf from '@tensorflow/tfjs';
import { CohortError } from '../protocol/errors.js';

/** Total number of weight values, i.e. the length of the flat vector. */
export function parameterCount(model: tf.LayersModel): number {
  let n = 0;
  for (const w of model.weights) n += w.read().size;
  return n;
}

/** Reads all weights. Uses `await data()`: `dataSync` is unsupported on WebGPU in Node. */
export async function getFlatWeights(model: tf.LayersModel): Promise<Float32Array> {
  const out = new Float32Array(parameterCount(model));
  // Start every read before awaiting any, so GPU backends can overlap the transfers.
  const reads = model.weights.map((w) => w.read().data());
  let offset = 0;
  for (const read of reads) {
    const values = await read;
    out.set(values as Float32Array, offset);
    offset += values.length;
  }
  return out;
}

/** Overwrites all weights; E_MODEL_INVALID when `flat` has the wrong length. */
export function setFlatWeights(model: tf.LayersModel, flat: Float32Array): void {
  const expected = parameterCount(model);
  if (flat.length !== expected) {
    throw new CohortError('E_MODEL_INVALID', `weight vector has ${flat.length} values, the model has ${expected}`);
  }
  const tensors: tf.Tensor[] = [];
  let offset = 0;
  for (const w of model.weights) {
    const { shape, size } = w.read();
    // slice (a copy), not subarray: some backends keep the array they are given, and the caller
    // may reuse `flat`.
    tensors.push(tf.tensor(flat.slice(offset, offset + size), shape, 'float32'));
    offset += size;
  }
  try {
    model.setWeights(tensors);
  } finally {
    // Variables take their own reference on assign, so ours can go.
    tf.dispose(tensors);
  }
}
