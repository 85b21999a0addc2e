// The held-out gradient contribution scoring projects updates on: checked against central finite
// differences of evaluateModel's loss, coordinate by coordinate, in the flat weight order, and
// with batches that do not divide the dataset (the mean is over examples, not over batches).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateModel } from '../../../core/train/evaluate.js';
import { lossGradient } from '../../../core/train/loss-gradient.js';
import { getFlatWeights, setFlatWeights } from '../../../core/train/weights.js';
import { separableDataset, smallMlp } from './fixtures.js';

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

describe('lossGradient', () => {
  it('matches finite differences of the mean held-out loss', async () => {
    const model = smallMlp(7);
    const data = separableDataset(50, 3);
    const weights = await getFlatWeights(model);
    const { gradient, loss, examples } = await lossGradient(model, data, 16);
    expect(examples).toBe(50);
    expect(loss).toBeCloseTo((await evaluateModel(model, data, 16)).loss, 5);
    expect(gradient.length).toBe(weights.length);

    const h = 1e-2;
    const lossAt = async (w: Float32Array): Promise<number> => {
      setFlatWeights(model, w);
      return (await evaluateModel(model, data, 50)).loss;
    };
    // Every 7th coordinate: kernels and biases of both layers.
    for (let i = 0; i < weights.length; i += 7) {
      const up = Float32Array.from(weights);
      const down = Float32Array.from(weights);
      up[i]! += h;
      down[i]! -= h;
      const numeric = ((await lossAt(up)) - (await lossAt(down))) / (2 * h);
      expect(gradient[i]).toBeCloseTo(numeric, 2);
    }
    // A step against the gradient lowers the loss.
    const step = Float32Array.from(weights, (w, i) => w - 0.1 * gradient[i]!);
    expect(await lossAt(step)).toBeLessThan(loss);
    model.dispose();
  });
});
