// scoringGroups: the contribution-scoring groups both sides compute from the signed survivor set.
// Deterministic, at least minGroupSize members each, disjoint, covering every contributor, and each
// group's induced neighbour subgraph connected; fewer groups (down to one) when that is impossible.
import { describe, expect, it } from 'vitest';
import { buildNeighbourGraph } from '../../../core/secagg/graph.js';
import { scoringGroups } from '../../../core/secagg/scoring-groups.js';

const idsOf = (n: number) => Array.from({ length: n }, (_, i) => `w${String(i).padStart(3, '0')}`);
const seed = (fill: number) => new Uint8Array(32).fill(fill);

/** Breadth-first search written here, independent of the module's own check. */
function connected(group: readonly string[], areNeighbours: (a: string, b: string) => boolean): boolean {
  const seen = new Set([group[0]!]);
  for (let frontier = [group[0]!]; frontier.length > 0; ) {
    frontier = group.filter((v) => !seen.has(v) && frontier.some((u) => areNeighbours(u, v)));
    for (const v of frontier) seen.add(v);
  }
  return seen.size === group.length;
}

function expectValidGroups(groups: string[][], ids: readonly string[], m: number, areNeighbours: (a: string, b: string) => boolean): void {
  const all = groups.flat();
  expect(all.sort()).toEqual([...ids].sort()); // cover everyone, each once (disjoint)
  expect(new Set(all).size).toBe(ids.length);
  for (const g of groups) {
    expect(g.length).toBeGreaterThanOrEqual(m);
    expect(connected(g, areNeighbours)).toBe(true);
  }
}

describe('scoringGroups', () => {
  it('complete graph, n = 20, minGroupSize 5: four groups of five, the same for the same seed and any input order', async () => {
    // Prepare
    const ids = idsOf(20);
    const graph = await buildNeighbourGraph(ids, seed(1), 30);
    const input = { seed: seed(7), contributors: ids, minGroupSize: 5, areNeighbours: graph.areNeighbours };

    // Execute
    const groups = await scoringGroups(input);
    const again = await scoringGroups({ ...input, contributors: [...ids].reverse() });
    const otherSeed = await scoringGroups({ ...input, seed: seed(8) });

    // Assert
    expect(groups.map((g) => g.length)).toEqual([5, 5, 5, 5]);
    expectValidGroups(groups, ids, 5, graph.areNeighbours);
    expect(again).toEqual(groups);
    expect(otherSeed).not.toEqual(groups); // a different survivor set or round gives different groups
    for (const g of groups) expect(g).toEqual([...g].sort());
  });

  it('sparse graph (n = 40, k = 8): at least two groups, each connected and of at least five', async () => {
    // Prepare
    const ids = idsOf(40);
    const graph = await buildNeighbourGraph(ids, seed(3), 8);

    // Execute
    const groups = await scoringGroups({ seed: seed(4), contributors: ids, minGroupSize: 5, areNeighbours: graph.areNeighbours });
    const byLists = await scoringGroups({ seed: seed(4), contributors: ids, minGroupSize: 5, areNeighbours: graph.areNeighbours, neighboursOf: graph.neighboursOf });

    // Assert
    expect(byLists).toEqual(groups); // neighbour lists only speed up the connectivity test
    expect(graph.degree).toBe(8);
    expect(groups.length).toBeGreaterThanOrEqual(2);
    expect(groups.length).toBeLessThanOrEqual(8);
    expectValidGroups(groups, ids, 5, graph.areNeighbours);
  });

  it('n = 13, minGroupSize 5: two groups of near-equal size (7 and 6)', async () => {
    // Execute
    const groups = await scoringGroups({ seed: seed(5), contributors: idsOf(13), minGroupSize: 5, areNeighbours: () => true });

    // Assert
    expect(groups.map((g) => g.length).sort()).toEqual([6, 7]);
  });

  it('one group (no scoring) when n < 2·minGroupSize, or when no cut into connected groups exists', async () => {
    // Prepare: a star, whose leaves are connected only through the centre, so any group without it is not
    const ids = idsOf(30);
    const star = (a: string, b: string) => a !== b && (a === ids[0] || b === ids[0]);

    // Execute
    const few = await scoringGroups({ seed: seed(1), contributors: idsOf(9), minGroupSize: 5, areNeighbours: () => true });
    const starGroups = await scoringGroups({ seed: seed(1), contributors: [...ids].reverse(), minGroupSize: 5, areNeighbours: star });

    // Assert
    expect(few).toEqual([idsOf(9)]);
    expect(starGroups).toEqual([ids]);
  });

  it('refuses minGroupSize below 3, a seed that is not 32 bytes, and duplicate contributors', async () => {
    // Prepare
    const base = { seed: seed(1), contributors: idsOf(12), minGroupSize: 3, areNeighbours: () => true };

    // Execute / Assert
    await expect(scoringGroups({ ...base, minGroupSize: 2 })).rejects.toMatchObject({ code: 'E_SECAGG_CONFIG' });
    await expect(scoringGroups({ ...base, seed: new Uint8Array(31) })).rejects.toMatchObject({ code: 'E_SECAGG_INVALID' });
    await expect(scoringGroups({ ...base, contributors: [...idsOf(12), 'w000'] })).rejects.toMatchObject({ code: 'E_SECAGG_INVALID' });
  });
});
