import { describe, expect, it } from 'vitest';
import { partitionIndices } from '../../../core/data/partition.js';
import type { PartitionSpec } from '../../../core/protocol/messages.js';

/** 10 classes, 1,000 examples, in a scrambled order. */
const labels = Array.from({ length: 1000 }, (_, i) => (i * 7) % 10);

function spec(kind: PartitionSpec['kind'], extra: Partial<PartitionSpec> = {}): PartitionSpec {
  return { kind, alpha: 0.5, shardsPerClient: 2, seed: 11, ...extra };
}

function expectExactCover(parts: number[][], n: number): void {
  const seen = new Uint8Array(n);
  for (const part of parts) {
    expect(part.length).toBeGreaterThan(0);
    for (const i of part) {
      expect(Number.isInteger(i) && i >= 0 && i < n).toBe(true);
      seen[i]!++;
    }
  }
  expect(seen.every((c) => c === 1)).toBe(true);
}

function classesOf(part: number[]): Set<number> {
  return new Set(part.map((i) => labels[i]!));
}

describe('partitionIndices', () => {
  for (const kind of ['iid', 'shards', 'dirichlet'] as const) {
    it(`${kind}: assigns every index exactly once, leaves no client empty, is deterministic`, () => {
      for (const clients of [1, 7, 20]) {
        const parts = partitionIndices(labels, clients, spec(kind));
        expect(parts.length).toBe(clients);
        expectExactCover(parts, labels.length);
        expect(partitionIndices(labels, clients, spec(kind))).toEqual(parts);
        for (const part of parts) expect(part).toEqual([...part].sort((a, b) => a - b));
      }
      expect(partitionIndices(labels, 7, spec(kind, { seed: 12 }))).not.toEqual(partitionIndices(labels, 7, spec(kind)));
    });
  }

  it('iid: equal sizes and mixed labels', () => {
    const parts = partitionIndices(labels, 8, spec('iid'));
    for (const part of parts) {
      expect(part.length).toBe(125);
      expect(classesOf(part).size).toBeGreaterThanOrEqual(8);
    }
  });

  it('shards: each client sees at most about shardsPerClient labels', () => {
    for (const shardsPerClient of [1, 2, 3]) {
      const parts = partitionIndices(labels, 10, spec('shards', { shardsPerClient }));
      // A shard can straddle one label boundary, so ≤ 2 labels per shard.
      for (const part of parts) expect(classesOf(part).size).toBeLessThanOrEqual(2 * shardsPerClient);
      const average = parts.reduce((s, p) => s + classesOf(p).size, 0) / parts.length;
      expect(average).toBeLessThanOrEqual(shardsPerClient + 1);
    }
  });

  it('dirichlet: small alpha is skewed, large alpha is close to iid', () => {
    const skew = (alpha: number): number => {
      const parts = partitionIndices(labels, 10, spec('dirichlet', { alpha }));
      // Mean share of each client's most common label.
      let total = 0;
      for (const part of parts) {
        const counts = new Array<number>(10).fill(0);
        for (const i of part) counts[labels[i]!]!++;
        total += Math.max(...counts) / part.length;
      }
      return total / parts.length;
    };
    expect(skew(0.05)).toBeGreaterThan(0.6);
    expect(skew(1000)).toBeLessThan(0.2);
  });

  it('dirichlet with tiny alpha still leaves nobody empty', () => {
    const parts = partitionIndices(labels, 50, spec('dirichlet', { alpha: 0.001 }));
    expectExactCover(parts, labels.length);
  });

  it('rejects impossible requests', () => {
    expect(() => partitionIndices(labels.slice(0, 5), 6, spec('iid'))).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
    expect(() => partitionIndices(labels.slice(0, 10), 6, spec('shards'))).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
    expect(() => partitionIndices(labels, 0, spec('iid'))).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
    expect(() => partitionIndices([0, -1], 1, spec('iid'))).toThrow(expect.objectContaining({ code: 'E_DATA_INVALID' }));
  });
});
