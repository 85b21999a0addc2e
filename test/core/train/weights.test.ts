import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';
import { getFlatWeights, parameterCount, setFlatWeights } from '../../../core/train/weights.js';
import { smallCnn } from './fixtures.js';

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

describe('flat weights', () => {
  it('round-trips through one Float32Array', async () => {
    const model = smallCnn();
    const n = parameterCount(model);
    expect(n).toBe(3 * 3 * 1 * 3 + 3 + 2 * 2 * 3 * 3 + 3);
    const flat = await getFlatWeights(model);
    expect(flat.length).toBe(n);
    const next = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5);
    setFlatWeights(model, next);
    expect(Array.from(await getFlatWeights(model))).toEqual(Array.from(next));
    // The first weight tensor is the conv kernel, in model.weights order.
    const kernel = await model.weights[0]!.read().data();
    expect(Array.from(kernel)).toEqual(Array.from(next.subarray(0, kernel.length)));
    model.dispose();
  });

  it('copies: mutating the array afterwards does not change the model', async () => {
    const model = smallCnn();
    const flat = new Float32Array(parameterCount(model)).fill(0.25);
    setFlatWeights(model, flat);
    flat.fill(7);
    const back = await getFlatWeights(model);
    expect(back.every((v) => v === 0.25)).toBe(true);
    model.dispose();
  });

  it('rejects a vector of the wrong length with E_MODEL_INVALID', () => {
    const model = smallCnn();
    const bad = new Float32Array(parameterCount(model) + 1);
    expect(() => setFlatWeights(model, bad)).toThrow(CohortError);
    try {
      setFlatWeights(model, bad);
    } catch (err) {
      expect((err as CohortError).code).toBe('E_MODEL_INVALID');
    }
    model.dispose();
  });

  it('does not leak tensors', async () => {
    const model = smallCnn();
    const before = tf.memory().numTensors;
    const flat = await getFlatWeights(model);
    setFlatWeights(model, flat);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
