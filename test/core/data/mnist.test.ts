// core/data/mnist.ts: parsing a split from bytes and cutting a shard, with small made-up IDX files
// (the real ones are read in test/worker-node/data/mnist.test.ts and test/coordinator/data/).
import { describe, expect, it } from 'vitest';
import { MNIST_CLASSES, mnistDataset, mnistShard, parseMnist } from '../../../core/data/mnist.js';

function idxImages(count: number, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(16 + count * rows * cols);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000803);
  view.setUint32(4, count);
  view.setUint32(8, rows);
  view.setUint32(12, cols);
  for (let i = 0; i < count; i++) out.fill(i, 16 + i * rows * cols, 16 + (i + 1) * rows * cols);
  return out;
}

function idxLabels(labels: number[]): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000801);
  view.setUint32(4, labels.length);
  out.set(labels, 8);
  return out;
}

const labels = Array.from({ length: 20 }, (_, i) => i % MNIST_CLASSES);

describe('core MNIST', () => {
  it('parses a split from its two IDX files', () => {
    const mnist = parseMnist('test', idxImages(20, 2, 3), idxLabels(labels));
    expect(mnist.images).toMatchObject({ count: 20, rows: 2, cols: 3 });
    expect([...mnist.labels]).toEqual(labels);
    const dataset = mnistDataset(mnist);
    expect(dataset.size).toBe(20);
    expect(dataset.inputShape).toEqual([2, 3, 1]);
    expect(dataset.numClasses).toBe(10);
  });

  it('refuses image and label files that do not belong together', () => {
    expect(() => parseMnist('train', idxImages(20, 2, 3), idxLabels(labels.slice(1)))).toThrow(
      expect.objectContaining({ code: 'E_DATA_INVALID', message: 'MNIST train: 20 images but 19 labels' }),
    );
    // The labels file given as images: the error names the file it expected.
    expect(() => parseMnist('train', idxLabels(labels), idxLabels(labels))).toThrow(/MNIST train images \(train-images-idx3-ubyte\)/);
  });

  it('cuts disjoint shards that cover the split', () => {
    const mnist = parseMnist('train', idxImages(20, 2, 3), idxLabels(labels));
    const spec = { kind: 'iid', alpha: 0.5, shardsPerClient: 2, seed: 7 } as const;
    const shards = [0, 1, 2, 3].map((i) => mnistShard(mnist, i, 4, spec));
    expect(shards.map((s) => s.size)).toEqual([5, 5, 5, 5]);
    // Each image is filled with its own index, so the first pixel of every example names it.
    const seen = shards.flatMap((s) => [...s.batches(100, 0)].flatMap((b) => Array.from({ length: b.ys.length }, (_, k) => Math.round((b.xs[k * 6] ?? -1) * 255))));
    expect(new Set(seen).size).toBe(20);
    expect(() => mnistShard(mnist, 4, 4, spec)).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
  });
});
