import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDataset } from '../../../core/data/in-memory.js';
import type { TrainConfig } from '../../../core/protocol/messages.js';
import { registerConv2DFilterGradient } from '../../../core/train/conv2d-filter-grad.js';
import { evaluateModel } from '../../../core/train/evaluate.js';
import { trainLocally } from '../../../core/train/local-train.js';
import { getFlatWeights, setFlatWeights } from '../../../core/train/weights.js';
import { separableDataset, smallCnn, smallMlp } from './fixtures.js';

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

const base: TrainConfig = { localEpochs: 3, batchSize: 10, optimizer: 'adam', lr: 0.05, seed: 3 };

function distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - (b[i] as number)) ** 2;
  return Math.sqrt(s);
}

describe('trainLocally', () => {
  it('reduces the loss on separable data', async () => {
    const data = separableDataset(90);
    const model = smallMlp();
    const before = await evaluateModel(model, data);
    const steps: number[] = [];
    const result = await trainLocally(model, data, { ...base, localEpochs: 5 }, { onStep: (s) => steps.push(s) });
    const after = await evaluateModel(model, data);
    expect(result.steps).toBe(5 * 9);
    expect(result.examples).toBe(5 * 90);
    expect(steps).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(after.loss).toBeLessThan(before.loss * 0.5);
    expect(after.accuracy).toBeGreaterThan(0.9);
    expect(result.accuracy).toBeGreaterThan(0.5);
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(result.trainMs).toBeGreaterThan(0);
    expect(after.examples).toBe(90);
    model.dispose();
  });

  it('trains a conv model (with the replacement Conv2D gradient)', async () => {
    registerConv2DFilterGradient();
    const data = separableDataset(60);
    const model = smallCnn();
    const before = await evaluateModel(model, data);
    await trainLocally(model, data, { ...base, localEpochs: 6 });
    const after = await evaluateModel(model, data);
    expect(after.loss).toBeLessThan(before.loss * 0.7);
    model.dispose();
  });

  it('stops at maxLocalSteps and reports only the examples processed', async () => {
    const data = separableDataset(95);
    const model = smallMlp();
    const result = await trainLocally(model, data, { ...base, localEpochs: 4, maxLocalSteps: 12 });
    expect(result.steps).toBe(12);
    // 10 batches per epoch (the 10th has 5 examples): 9·10 + 5 + 2·10.
    expect(result.examples).toBe(115);
    model.dispose();
  });

  it('does not leak tensors (adam, sgd, FedProx)', async () => {
    const data = separableDataset(30);
    const model = smallMlp();
    await trainLocally(model, data, { ...base, localEpochs: 1 }); // let lazy initialisation happen
    const before = tf.memory().numTensors;
    await trainLocally(model, data, { ...base, localEpochs: 2 });
    await trainLocally(model, data, { ...base, optimizer: 'sgd', localEpochs: 2 });
    await trainLocally(model, data, { ...base, proximalMu: 0.1, localEpochs: 2 });
    await evaluateModel(model, data, 7);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('is reproducible from the seed', async () => {
    const data = separableDataset(40);
    const a = smallMlp(5);
    const b = smallMlp(6);
    setFlatWeights(b, await getFlatWeights(a));
    await trainLocally(a, data, { ...base, optimizer: 'sgd' });
    await trainLocally(b, data, { ...base, optimizer: 'sgd' });
    expect(distance(await getFlatWeights(a), await getFlatWeights(b))).toBe(0);
    const c = smallMlp(5);
    await trainLocally(c, data, { ...base, optimizer: 'sgd', seed: 4 });
    expect(distance(await getFlatWeights(a), await getFlatWeights(c))).toBeGreaterThan(0);
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('FedProx keeps the weights closer to the starting point', async () => {
    const data = separableDataset(60);
    const plain = smallMlp();
    const start = await getFlatWeights(plain);
    const prox = smallMlp();
    setFlatWeights(prox, start);
    const config: TrainConfig = { ...base, optimizer: 'sgd', lr: 0.5, localEpochs: 4 };
    await trainLocally(plain, data, config);
    await trainLocally(prox, data, { ...config, proximalMu: 1 });
    const moved = distance(await getFlatWeights(plain), start);
    const movedProx = distance(await getFlatWeights(prox), start);
    expect(moved).toBeGreaterThan(0);
    expect(movedProx).toBeLessThan(moved * 0.9);
    plain.dispose();
    prox.dispose();
  });

  it('stops when aborted, without leaking', async () => {
    const data = separableDataset(60);
    const model = smallMlp();
    await trainLocally(model, data, { ...base, localEpochs: 1 });
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const seen: number[] = [];
    const run = trainLocally(model, data, base, {
      signal: controller.signal,
      onStep: (s) => {
        seen.push(s);
        if (s === 2) controller.abort(new Error('round cancelled'));
      },
    });
    await expect(run).rejects.toThrow('round cancelled');
    expect(seen).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('yields to the event loop while training', async () => {
    const data = separableDataset(300);
    const model = smallMlp();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const result = await trainLocally(model, data, { ...base, batchSize: 5, localEpochs: 4 });
    clearInterval(timer);
    // Roughly one tick per 25 ms of training at least; be lenient on slow machines.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(result.trainMs / 100));
    expect(ticks).toBeGreaterThan(0);
    model.dispose();
  });

  it('rejects data that does not fit the model', async () => {
    const model = smallMlp();
    const wrong = new InMemoryDataset({ pixels: new Uint8Array(2 * 9), labels: [0, 1], inputShape: [3, 3, 1], numClasses: 3 });
    await expect(trainLocally(model, wrong, base)).rejects.toMatchObject({ code: 'E_DATA_INVALID' });
    const tooManyClasses = new InMemoryDataset({ pixels: new Uint8Array(2 * 16), labels: [0, 4], inputShape: [4, 4, 1], numClasses: 5 });
    await expect(trainLocally(model, tooManyClasses, base)).rejects.toMatchObject({ code: 'E_DATA_INVALID' });
    model.dispose();
  });
});
