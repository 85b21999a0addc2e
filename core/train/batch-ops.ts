/**
 * Tensor plumbing shared by training, evaluation and the backend benchmark: a Batch as tensors,
 * the cross-entropy of softmax outputs, and the check that a dataset fits a model.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, LocalDataset } from '../data/dataset.js';
import { modelInputShape, modelNumClasses } from '../models/layers-json.js';
import { CohortError } from '../protocol/errors.js';

/** Probabilities are clipped away from 0 before the log, as Keras does. */
const EPSILON = 1e-7;

export interface ModelIo {
  inputShape: number[];
  numClasses: number;
}

/** The model's input shape and class count; throws E_DATA_INVALID when `data` does not fit. */
export function checkDataFitsModel(model: tf.LayersModel, data: Pick<LocalDataset, 'inputShape' | 'numClasses'>): ModelIo {
  const inputShape = modelInputShape(model);
  const numClasses = modelNumClasses(model);
  if (data.inputShape.join(',') !== inputShape.join(',')) {
    throw new CohortError('E_DATA_INVALID', `examples of shape [${data.inputShape.join(', ')}] do not fit the model's input [${inputShape.join(', ')}]`);
  }
  // Fewer classes in the data is fine (a shard may lack some); more would index past the output.
  if (data.numClasses > numClasses) {
    throw new CohortError('E_DATA_INVALID', `the data has ${data.numClasses} classes, the model outputs ${numClasses}`);
  }
  return { inputShape, numClasses };
}

/** The batch as an input tensor and an int32 label tensor; the caller disposes both. */
export function batchTensors(batch: Batch, inputShape: readonly number[]): { xs: tf.Tensor; labels: tf.Tensor1D } {
  const xs = tf.tensor(batch.xs, [batch.size, ...inputShape], 'float32');
  const labels = tf.tensor1d(batch.ys, 'int32');
  return { xs, labels };
}

/** Per-example cross-entropy of softmax probabilities against integer labels, shape [batch]. */
export function crossEntropyPerExample(probs: tf.Tensor, labels: tf.Tensor1D, numClasses: number): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(labels, numClasses), 'float32');
    const logp = tf.log(tf.clipByValue(probs, EPSILON, 1));
    return tf.neg(tf.sum(tf.mul(oneHot, logp), -1)) as tf.Tensor1D;
  });
}

/** Number of examples whose arg-max class equals the label, as a float32 scalar. */
export function countCorrect(probs: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), labels), 'float32')) as tf.Scalar);
}

/** Lets timers and socket I/O run (WebSocket pings) between synchronous tfjs steps. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
