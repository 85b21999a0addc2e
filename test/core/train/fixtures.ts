/** Small models and a separable synthetic dataset for the training tests. */
import * as tf from '@tensorflow/tfjs';
import { InMemoryDataset } from '../../../core/data/in-memory.js';
import { createRandom, normal } from '../../../core/data/random.js';

export const SHAPE = [4, 4, 1];
export const CLASSES = 3;

/** Each class is a different prototype image plus noise: linearly separable with margin. */
export function separableDataset(count: number, seed = 1): InMemoryDataset {
  const rng = createRandom(seed);
  const f = 16;
  const pixels = new Float32Array(count * f);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % CLASSES;
    labels[i] = label;
    for (let k = 0; k < f; k++) {
      const on = k % CLASSES === label ? 0.8 : 0.2;
      pixels[i * f + k] = Math.min(1, Math.max(0, on + 0.1 * normal(rng)));
    }
  }
  return new InMemoryDataset({ pixels, labels, inputShape: SHAPE, numClasses: CLASSES });
}

export function smallMlp(seed = 42): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: SHAPE }),
      tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

export function smallCnn(seed = 42): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: SHAPE, filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}
