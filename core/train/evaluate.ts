/** Loss and accuracy of a model on a dataset, in inference mode (no dropout, no updates). */
import * as tf from '@tensorflow/tfjs';
import type { LocalDataset } from '../data/dataset.js';
import { batchTensors, checkDataFitsModel, countCorrect, crossEntropyPerExample, yieldToEventLoop } from './batch-ops.js';

export interface EvaluationResult {
  /** Mean cross-entropy per example; 0 when the dataset is empty. */
  loss: number;
  accuracy: number;
  examples: number;
}

export async function evaluateModel(model: tf.LayersModel, data: LocalDataset, batchSize = 1000): Promise<EvaluationResult> {
  const { inputShape, numClasses } = checkDataFitsModel(model, data);
  let lossSum = 0;
  let correctSum = 0;
  let examples = 0;
  // The order does not matter here; a fixed seed keeps it cheap and reproducible.
  for (const batch of data.batches(batchSize, 0)) {
    const [lossT, correctT] = tf.tidy(() => {
      const { xs, labels } = batchTensors(batch, inputShape);
      const probs = model.predict(xs) as tf.Tensor;
      return [tf.sum(crossEntropyPerExample(probs, labels, numClasses)), countCorrect(probs, labels)];
    });
    try {
      const [l, c] = await Promise.all([lossT.data(), correctT.data()]);
      lossSum += l[0] as number;
      correctSum += c[0] as number;
    } finally {
      lossT.dispose();
      correctT.dispose();
    }
    examples += batch.size;
    await yieldToEventLoop();
  }
  return {
    loss: examples > 0 ? lossSum / examples : 0,
    accuracy: examples > 0 ? correctSum / examples : 0,
    examples,
  };
}
