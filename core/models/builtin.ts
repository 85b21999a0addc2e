/**
 * The two MNIST models of McMahan et al., "Communication-Efficient Learning of Deep Networks from
 * Decentralized Data" (2017), and the single entry point that turns any ModelSpec into a model.
 */
import * as tf from '@tensorflow/tfjs';
import { CohortError } from '../protocol/errors.js';
import type { ModelSpec } from '../protocol/messages.js';
import { buildLayersModel, checkModelShape, type ModelExpectation } from './layers-json.js';

export const MNIST_INPUT_SHAPE: readonly number[] = [28, 28, 1];
export const MNIST_CLASSES = 10;

/** 784-200-200-10 MLP with ReLU: 199,210 parameters. */
export function build2nn(): tf.LayersModel {
  return tf.sequential({
    name: 'mcmahan_2nn',
    layers: [
      tf.layers.flatten({ inputShape: [...MNIST_INPUT_SHAPE] }),
      tf.layers.dense({ units: 200, activation: 'relu' }),
      tf.layers.dense({ units: 200, activation: 'relu' }),
      tf.layers.dense({ units: MNIST_CLASSES, activation: 'softmax' }),
    ],
  });
}

/** Two 5×5 conv layers (32, 64 channels) each followed by 2×2 max pooling, dense 512, softmax: 1,663,370 parameters. */
export function buildCnn(): tf.LayersModel {
  return tf.sequential({
    name: 'mcmahan_cnn',
    layers: [
      tf.layers.conv2d({ inputShape: [...MNIST_INPUT_SHAPE], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 512, activation: 'relu' }),
      tf.layers.dense({ units: MNIST_CLASSES, activation: 'softmax' }),
    ],
  });
}

/**
 * Builds a fresh, randomly initialised model for `spec`. With `expect`, the model must take that
 * input shape and/or output that many classes (so a worker can check its data fits), else
 * E_MODEL_INVALID.
 */
export function buildModel(spec: ModelSpec, expect: ModelExpectation = {}): tf.LayersModel {
  switch (spec.kind) {
    case 'builtin': {
      let model: tf.LayersModel;
      if (spec.name === '2nn') model = build2nn();
      else if (spec.name === 'cnn') model = buildCnn();
      else throw new CohortError('E_MODEL_INVALID', `unknown built-in model ${JSON.stringify(spec.name)}`);
      try {
        checkModelShape(model, expect);
      } catch (err) {
        model.dispose();
        throw err;
      }
      return model;
    }
    case 'layers':
      return buildLayersModel(spec.topology, expect);
    default:
      throw new CohortError('E_MODEL_INVALID', `unknown model kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

/** Layers whose training runs tfjs's Conv2D kernel, and so needs its filter gradient. */
const CONV2D_LAYERS = new Set(['Conv1D', 'Conv2D', 'SeparableConv2D']);

/** Whether training `model` needs the Conv2D gradient (nested models included). */
export function modelUsesConv2D(model: tf.LayersModel): boolean {
  return model.layers.some((layer) =>
    CONV2D_LAYERS.has(layer.getClassName()) || ('layers' in layer && modelUsesConv2D(layer as unknown as tf.LayersModel)),
  );
}
