/**
 * WebGPU in Node for real: Dawn (the npm package `webgpu`) on whatever Vulkan driver the machine
 * has; in CI that is Mesa's software lavapipe, installed by .ci/run. The worker's own training
 * code (trainLocally, getFlatWeights, setFlatWeights, evaluateModel) trains the McMahan 2NN and
 * CNN for a few steps from the same start on cpu and on webgpu, and the weights must agree.
 *
 * Tolerance: after 3 SGD steps (lr 0.05) from identical weights on identical batches, every weight
 * must be within 1e-5 of the cpu result. The two backends differ only in float32 summation order
 * (measured on lavapipe: 1.5e-8 for the 2NN, 7e-9 for the CNN), so this leaves a wide margin while
 * still catching any wrong kernel: the steps move the weights by more than 1e-3 (checked).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDataset } from '../../../core/data/in-memory.js';
import { buildModel } from '../../../core/models/builtin.js';
import type { TrainConfig } from '../../../core/protocol/messages.js';
import { evaluateModel } from '../../../core/train/evaluate.js';
import { trainLocally } from '../../../core/train/local-train.js';
import { getFlatWeights, setFlatWeights } from '../../../core/train/weights.js';
import { activate, loadCandidate, type LoadedBackend } from '../../../worker-node/backends/candidates.js';
import { selectBackend } from '../../../worker-node/backends/select.js';
import { loadMnist } from '../../../worker-node/data/mnist.js';

const config: TrainConfig = { localEpochs: 1, batchSize: 8, optimizer: 'sgd', lr: 0.05, maxLocalSteps: 3, seed: 7 };

/** The first 24 MNIST training examples: three batches of 8. */
function smallMnist(): InMemoryDataset {
  const { images, labels } = loadMnist('train');
  const indices = Array.from({ length: 24 }, (_, i) => i);
  return new InMemoryDataset({ pixels: images.pixels, labels, indices, inputShape: [28, 28, 1], numClasses: 10 });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Counts the webgpu backend's synchronous reads (dataSync, arraySync, bufferSync all land here). */
function countSyncReads(): { count: () => number; restore: () => void } {
  const backend = tf.backend() as unknown as { readSync: (id: object) => unknown };
  const original = backend.readSync;
  let calls = 0;
  backend.readSync = function (this: unknown, id: object) {
    calls++;
    return original.call(this, id);
  };
  return { count: () => calls, restore: () => void (backend.readSync = original) };
}

describe('webgpu backend in Node (Dawn)', () => {
  let webgpu: LoadedBackend;
  const data = smallMnist();

  beforeAll(async () => {
    const loaded = await loadCandidate('webgpu');
    // Fails (with Dawn's reason) where no Vulkan driver is installed: run .ci/run --system-only.
    expect(loaded.ok ? 'loaded' : loaded.reason).toBe('loaded');
    if (loaded.ok) webgpu = loaded.backend;
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gets an adapter and reports it', () => {
    expect(webgpu.tfjsBackend).toBe('webgpu');
    expect(webgpu.gpu).toBe(true);
    expect(webgpu.adapter ?? '').not.toBe('');
  });

  for (const name of ['2nn', 'cnn'] as const) {
    it(`trains the ${name} like the cpu backend does, without synchronous reads`, async () => {
      const spec = { kind: 'builtin', name } as const;
      await tf.setBackend('cpu');
      const cpuModel = buildModel(spec);
      const start = await getFlatWeights(cpuModel);
      const cpuResult = await trainLocally(cpuModel, data, config);
      const cpuWeights = await getFlatWeights(cpuModel);
      cpuModel.dispose();

      expect(await activate(webgpu)).toEqual({ ok: true });
      const gpuModel = buildModel(spec);
      const reads = countSyncReads();
      try {
        setFlatWeights(gpuModel, start);
        const gpuResult = await trainLocally(gpuModel, data, config);
        const gpuWeights = await getFlatWeights(gpuModel);
        const evaluation = await evaluateModel(gpuModel, data, 8);
        expect(reads.count()).toBe(0);

        expect(gpuResult.steps).toBe(3);
        expect(gpuResult.loss).toBeCloseTo(cpuResult.loss, 3);
        expect(evaluation.examples).toBe(24);
        // Training moved the weights, so agreeing is not trivially true.
        expect(maxAbsDiff(cpuWeights, start)).toBeGreaterThan(1e-3);
        const diff = maxAbsDiff(gpuWeights, cpuWeights);
        console.log(`${name}: max |webgpu - cpu| = ${diff.toExponential(2)} over ${cpuWeights.length} weights`);
        expect(diff).toBeLessThan(1e-5);
      } finally {
        reads.restore();
        gpuModel.dispose();
        await tf.setBackend('cpu');
      }
    }, 180_000);
  }

  it('is what a worker gets when it forces --backend webgpu', async () => {
    const selection = await selectBackend({ requested: 'webgpu', model: { kind: 'builtin', name: '2nn' }, benchmark: { budgetMs: 200, maxSteps: 3 } });
    expect(selection.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(selection.adapter).toBe(webgpu.adapter);
    expect(selection.stepsPerSecond).toBeGreaterThan(0);
  }, 120_000);
});
