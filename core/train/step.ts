/**
 * One local optimizer step: forward, cross-entropy (plus FedProx's proximal term), gradients and
 * update, all inside tf.tidy. The same step serves local training and the backend benchmark, so
 * the benchmark measures exactly what training runs.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset.js';
import { modelInputShape, modelNumClasses } from '../models/layers-json.js';
import { batchTensors, countCorrect, crossEntropyPerExample } from './batch-ops.js';

export interface StepOptions {
  optimizer: 'adam' | 'sgd';
  lr: number;
  /** FedProx μ: adds (μ/2)·‖w − w_start‖² to the loss, w_start being the weights at creation. */
  proximalMu?: number | undefined;
}

export interface StepOutput {
  /** Mean cross-entropy over the batch (without the proximal term). */
  loss: tf.Scalar;
  /** Number of correctly classified examples. */
  correct: tf.Scalar;
}

export interface TrainStep {
  /** Runs one step. The caller reads and disposes the returned scalars. */
  run(batch: Batch): StepOutput;
  /** Frees the optimizer's slots and the proximal anchor. */
  dispose(): void;
}

export function createTrainStep(model: tf.LayersModel, options: StepOptions): TrainStep {
  const inputShape = modelInputShape(model);
  const numClasses = modelNumClasses(model);
  // LayerVariable.read() returns the underlying tf.Variable that the layers compute with.
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = options.optimizer === 'adam' ? tf.train.adam(options.lr) : tf.train.sgd(options.lr);
  const mu = options.proximalMu ?? 0;
  const anchor = mu > 0 ? vars.map((v) => tf.clone(v)) : [];

  function proximal(): tf.Scalar {
    const terms = vars.map((v, i) => tf.sum(tf.squaredDifference(v, anchor[i] as tf.Tensor)));
    return tf.mul(mu / 2, tf.addN(terms)) as tf.Scalar;
  }

  return {
    run(batch: Batch): StepOutput {
      const { xs, labels } = batchTensors(batch, inputShape);
      let loss: tf.Scalar | undefined;
      let correct: tf.Scalar | undefined;
      try {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => {
            const probs = model.apply(xs, { training: true }) as tf.Tensor;
            const ce = tf.mean(crossEntropyPerExample(probs, labels, numClasses)) as tf.Scalar;
            // keep: these leave the gradient's tidy scopes; the caller disposes them.
            loss = tf.keep(ce);
            correct = tf.keep(countCorrect(probs, labels));
            return mu > 0 ? tf.add(ce, proximal()) : ce;
          }, vars);
          // Gradients are keyed by variable name, which is what the optimizer looks them up by.
          optimizer.applyGradients(grads as unknown as Record<string, tf.Variable>);
        });
      } catch (err) {
        tf.dispose([loss, correct].filter((t): t is tf.Scalar => t !== undefined));
        throw err;
      } finally {
        xs.dispose();
        labels.dispose();
      }
      return { loss: loss as unknown as tf.Scalar, correct: correct as unknown as tf.Scalar };
    },
    dispose(): void {
      optimizer.dispose();
      tf.dispose(anchor);
    },
  };
}
