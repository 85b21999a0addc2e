import { describe, expect, it } from 'vitest';
import { InMemoryDataset } from '../../../core/data/in-memory.js';

function dataset(count: number, indices?: number[]): InMemoryDataset {
  // Example i has every pixel equal to i and label i % 4.
  const pixels = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) pixels.fill(i, i * 4, i * 4 + 4);
  const labels = Array.from({ length: count }, (_, i) => i % 4);
  return new InMemoryDataset({ pixels, labels, indices, inputShape: [2, 2, 1], numClasses: 4 });
}

function collect(ds: InMemoryDataset, batchSize: number, seed: number): { ids: number[]; sizes: number[] } {
  const ids: number[] = [];
  const sizes: number[] = [];
  for (const batch of ds.batches(batchSize, seed)) {
    sizes.push(batch.size);
    for (let b = 0; b < batch.size; b++) {
      const id = Math.round(batch.xs[b * 4]! * 255);
      expect(batch.ys[b]).toBe(id % 4);
      ids.push(id);
    }
  }
  return { ids, sizes };
}

describe('InMemoryDataset', () => {
  it('yields every example once per epoch, scaled to [0, 1], with a short last batch', () => {
    const ds = dataset(10);
    const { ids, sizes } = collect(ds, 4, 1);
    expect(sizes).toEqual([4, 4, 2]);
    expect([...ids].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const first = ds.batches(10, 0)[Symbol.iterator]().next().value!;
    expect(Math.max(...first.xs)).toBeCloseTo(9 / 255, 6);
  });

  it('shuffles by seed, reproducibly', () => {
    const ds = dataset(50);
    expect(collect(ds, 8, 7).ids).toEqual(collect(ds, 8, 7).ids);
    expect(collect(ds, 8, 7).ids).not.toEqual(collect(ds, 8, 8).ids);
  });

  it('serves only its subset of indices, and compact copies just those', () => {
    const ds = dataset(20, [3, 5, 19]);
    expect(ds.size).toBe(3);
    expect(collect(ds, 2, 1).ids.sort((a, b) => a - b)).toEqual([3, 5, 19]);
    expect(Array.from(ds.labelArray())).toEqual([3, 1, 3]);
    const pixels = new Uint8Array(20 * 4);
    for (let i = 0; i < 20; i++) pixels.fill(i, i * 4, i * 4 + 4);
    const compact = InMemoryDataset.compact({ pixels, labels: Array.from({ length: 20 }, (_, i) => i % 4), indices: [3, 19], inputShape: [2, 2, 1], numClasses: 4 });
    expect(compact.size).toBe(2);
    expect(collect(compact, 5, 0).ids.sort((a, b) => a - b)).toEqual([3, 19]);
  });

  it('rejects inconsistent inputs with E_DATA_INVALID', () => {
    const make = (o: Partial<ConstructorParameters<typeof InMemoryDataset>[0]>) => () =>
      new InMemoryDataset({ pixels: new Uint8Array(8), labels: [0, 1], inputShape: [2, 2, 1], numClasses: 2, ...o });
    expect(make({ pixels: new Uint8Array(7) })).toThrow(expect.objectContaining({ code: 'E_DATA_INVALID' }));
    expect(make({ labels: [0] })).toThrow(expect.objectContaining({ code: 'E_DATA_INVALID' }));
    expect(make({ labels: [0, 2] })).toThrow(/label 2/);
    expect(make({ indices: [0, 2] })).toThrow(/index 2/);
    expect(make({ inputShape: [2, 0] })).toThrow(expect.objectContaining({ code: 'E_DATA_INVALID' }));
    expect(() => [...make({})().batches(0, 1)]).toThrow(/batch size/);
  });
});
