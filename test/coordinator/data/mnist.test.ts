// The coordinator's MNIST reader and the Node worker's read the same package through the one
// parser in core/data/mnist.ts, so the demo's evaluation, the simulator and the workers agree.
import { describe, expect, it } from 'vitest';
import { readMnist, readMnistSync } from '../../../coordinator/data/mnist.js';
import { loadMnistTestSet } from '../../../coordinator/evaluation/mnist-test-set.js';
import { loadMnist } from '../../../worker-node/data/mnist.js';

describe('coordinator MNIST', () => {
  it('reads the 10k test split, the same bytes as the Node worker', async () => {
    const viaPromise = await readMnist('test');
    const viaSync = readMnistSync('test');
    const worker = loadMnist('test');
    expect(viaPromise.images).toMatchObject({ count: 10_000, rows: 28, cols: 28 });
    expect(Buffer.from(viaPromise.images.pixels).equals(Buffer.from(worker.images.pixels))).toBe(true);
    expect(Buffer.from(viaSync.labels).equals(Buffer.from(worker.labels))).toBe(true);
    // Read once per process: the HTTP server asks again for every demo shard.
    expect(await readMnist('test')).toBe(viaPromise);
  });

  it('gives evaluation the whole test set', async () => {
    const test = await loadMnistTestSet();
    expect(test.size).toBe(10_000);
    expect(test.numClasses).toBe(10);
  });
});
