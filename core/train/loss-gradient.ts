/**
 * The gradient of a model's mean cross-entropy over a dataset, flat in `model.weights` order (what
 * travels on the wire), in inference mode. Contribution scoring uses it as the direction of
 * steepest descent on the coordinator's held-out set: −∇L · Δ is the improvement an update Δ
 * brings to first order, which is linear in Δ, so a scoring group's score is exactly the mean of
 * its members' (coordinator/contribution/group-score.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { LocalDataset } from '../data/dataset.js';
import { batchTensors, checkDataFitsModel, crossEntropyPerExample, yieldToEventLoop } from './batch-ops.js';
import { parameterCount } from './weights.js';

export interface LossGradient {
  /** ∂ mean loss / ∂ weights; 0 for non-trainable weights and for an empty dataset. */
  gradient: Float32Array;
  /** Mean cross-entropy per example at these weights. */
  loss: number;
  examples: number;
}

export async function lossGradient(model: tf.LayersModel, data: LocalDataset, batchSize = 1000): Promise<LossGradient> {
  const { inputShape, numClasses } = checkDataFitsModel(model, data);
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const sums = trainable.map((v) => new Float64Array(v.size));
  let lossSum = 0;
  let examples = 0;
  for (const batch of data.batches(batchSize, 0)) {
    const { xs, labels } = batchTensors(batch, inputShape);
    try {
      // Summed, not averaged, per batch: batches may differ in size, and the mean is taken once at the end.
      const { value, grads } = tf.variableGrads(() => {
        const probs = model.apply(xs, { training: false }) as tf.Tensor;
        return tf.sum(crossEntropyPerExample(probs, labels, numClasses)) as tf.Scalar;
      }, trainable);
      try {
        const reads = trainable.map((v) => grads[v.name]!.data());
        for (const [i, read] of reads.entries()) {
          const values = await read;
          const sum = sums[i]!;
          for (let j = 0; j < values.length; j++) sum[j]! += values[j]!;
        }
        lossSum += (await value.data())[0]!;
      } finally {
        value.dispose();
        tf.dispose(Object.values(grads));
      }
    } finally {
      xs.dispose();
      labels.dispose();
    }
    examples += batch.size;
    await yieldToEventLoop();
  }
  return { gradient: flatten(model, sums, examples), loss: examples > 0 ? lossSum / examples : 0, examples };
}

/** The per-variable sums ÷ examples, laid out as getFlatWeights lays out the weights. */
function flatten(model: tf.LayersModel, sums: readonly Float64Array[], examples: number): Float32Array {
  const out = new Float32Array(parameterCount(model));
  if (examples === 0) return out;
  // sums[i] belongs to model.trainableWeights[i]; the same LayerVariable objects appear in model.weights.
  const sumOf = new Map(model.trainableWeights.map((w, i) => [w, sums[i]!]));
  let offset = 0;
  for (const w of model.weights) {
    const sum = sumOf.get(w);
    if (sum) for (let j = 0; j < sum.length; j++) out[offset + j] = sum[j]! / examples;
    offset += w.read().size;
  }
  return out;
}
