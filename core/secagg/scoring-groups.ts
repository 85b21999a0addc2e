/**
 * Group-wise secure aggregation for contribution scoring: ONE SecAgg+ instance whose unmasking
 * yields, besides the total, the sum of each of G disjoint groups of contributors.
 *
 * Why one instance: the groups are chosen after the masked inputs are fixed, from a seed bound to
 * the signed survivor set (transcript.ts scoringGroupSeed), so a worker cannot pick its group or
 * tune its update to one, and a dropout cannot leave a group half-summed. Running one SecAgg+
 * instance per group would have to fix the groups before any input is masked, which is exactly
 * what this avoids.
 *
 * How: every contributor u sent y_u = q_u + PRG(b_u) + Σ_{v ∈ N(u)} σ(u,v)·PRG(s_uv). For a group
 * g, Y_g = Σ_{u∈g} y_u still carries the pairwise masks of the edges that leave g. At unmask each
 * survivor reveals s_uv for its surviving neighbours in OTHER groups (group-reveal.ts), never for
 * one in its own; the coordinator removes b_u, those cross-group masks and the dropped workers'
 * masks group by group (group-unmask.ts). What remains of Y_g is Σ_{u∈g} q_u: the in-group
 * pairwise masks cancel, as the whole graph's do in the total.
 *
 * What the coordinator learns: each group's Σ w·x and Σ w, and, as in any SecAgg+ round, nothing
 * about a single member or a proper subset of a group, provided the group's induced neighbour
 * subgraph is connected (any subset then shares at least one unrevealed in-group mask with the rest
 * of the group) and every member has an in-group neighbour (a worker checks this and refuses to
 * reveal otherwise). Groups have at least `minGroupSize` ≥ 3 members (config.ts), the round's own
 * privacy floor. The total is exactly what it is without scoring.
 *
 * Cost: the coordinator keeps the n masked vectors (n·(d + 1) words) until unmask instead of one
 * running sum; the extra unmask work is O(cross-group edges) PRG expansions, one per edge between
 * surviving neighbours in different groups, plus word-wise additions into G group accumulators
 * (every other mask is expanded once and subtracted from both the total and its group). Both sides
 * compute the grouping: at most 64 seeded permutations, and per tried cut O(|group|·k) neighbour
 * look-ups until its first disconnected group; tens of milliseconds for n ≤ 500, about 2–3 s at
 * n = 10,000 with k = 56 and minGroupSize 3 (thousands of group counts are tried there). A worker
 * adds one HKDF per cross-group neighbour.
 *
 * Limits: on a sparse graph (k ≈ 4·log2 n) a random group of 5 is rarely connected, so the grouping
 * falls back to fewer, larger groups (n = 40, k = 8, minGroupSize 5 gives 2 groups; n = 100, k = 28
 * gives about 6). The seed hides the groups only as far as the survivor set is unpredictable: with
 * no dropouts a worker can foresee the set, and so its group, before it masks. And a coordinator
 * that drops workers at will can try many survivor sets, hence many groupings, before it closes
 * masked-input: against a coordinator colluding with workers, a group's sum protects its members
 * as a round of |g| workers would, not as the whole round does.
 */
import { CohortError } from '../protocol/errors.js';
import { seededPermutation, isSortedUnique } from './graph.js';
import { encodeFields } from './transcript.js';

/** Seeded orders tried per group count before one group fewer is tried. */
export const SCORING_ATTEMPTS = 64;

const DOMAIN = new TextEncoder().encode('cohort/secagg/scoring-order/v1');

export interface ScoringGroupsInput {
  /** 32 bytes, from transcript.ts scoringGroupSeed (both sides derive it from the signed survivor set). */
  seed: Uint8Array;
  /** Every worker whose masked input is in the sum (any order). */
  contributors: readonly string[];
  /** At least 3 (config.ts). */
  minGroupSize: number;
  /** The round's neighbour graph (for contributors, exactly the pairs that masked with each other). */
  areNeighbours(a: string, b: string): boolean;
  /**
   * Optional, the same graph as neighbour lists (NeighbourGraph.neighboursOf): connectivity is then
   * checked in O(|group|·k) instead of O(|group|²) pair tests. Must agree with areNeighbours.
   */
  neighboursOf?(id: string): readonly string[];
}

/**
 * The scoring groups, deterministic in the input: sort the contributors, take G = ⌊n / minGroupSize⌋;
 * for attempt a = 0…63, order them by the seeded permutation a and cut the order into G runs of
 * near-equal size (each ≥ minGroupSize); the first cut whose every group induces a connected
 * neighbour subgraph wins. Otherwise G − 1, … down to 2 (the same 64 orders, cut differently).
 * Returns [sorted contributors] (one group: no scoring) when G < 2 or nothing connected was found.
 * Each group is sorted, and the groups are ordered by their first member.
 */
export async function scoringGroups(input: ScoringGroupsInput): Promise<string[][]> {
  const { seed, minGroupSize: m } = input;
  if (!Number.isInteger(m) || m < 3) throw new CohortError('E_SECAGG_CONFIG', `minGroupSize must be an integer of at least 3, got ${m}`);
  if (seed.byteLength !== 32) throw new CohortError('E_SECAGG_INVALID', 'the scoring seed must be 32 bytes');
  const sorted = [...input.contributors].sort();
  if (!isSortedUnique(sorted)) throw new CohortError('E_SECAGG_INVALID', 'contributors contain duplicates');
  const n = sorted.length;
  const orders: Uint32Array[] = [];
  const orderOf = async (attempt: number): Promise<Uint32Array> =>
    (orders[attempt] ??= await seededPermutation(n, encodeFields('attempt', seed, attempt), DOMAIN));
  for (let g = Math.floor(n / m); g >= 2; g--) {
    for (let attempt = 0; attempt < SCORING_ATTEMPTS; attempt++) {
      const groups = connectedCut(sorted, await orderOf(attempt), g, input);
      if (groups) return groups.map((group) => group.sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    }
  }
  return [sorted];
}

type Graph = Pick<ScoringGroupsInput, 'areNeighbours' | 'neighboursOf'>;

/** The G runs of `order` if each induces a connected subgraph; stops at the first that does not. */
function connectedCut(ids: readonly string[], order: Uint32Array, g: number, graph: Graph): string[][] | undefined {
  const base = Math.floor(ids.length / g);
  const extra = ids.length % g;
  const groups: string[][] = [];
  for (let i = 0, start = 0; i < g; i++) {
    const size = base + (i < extra ? 1 : 0);
    const group = Array.from(order.subarray(start, start + size), (j) => ids[j]!);
    if (!isConnected(group, graph)) return undefined;
    groups.push(group);
    start += size;
  }
  return groups;
}

/** True if `group` induces a connected subgraph (search from its first member over neighbours inside it). */
export function isConnected(group: readonly string[], graph: Graph): boolean {
  if (group.length === 0) return false;
  const members = new Set(group);
  const inside = graph.neighboursOf
    ? (u: string) => graph.neighboursOf!(u).filter((v) => members.has(v))
    : (u: string) => group.filter((v) => graph.areNeighbours(u, v));
  const reached = new Set([group[0]!]);
  const queue = [group[0]!];
  while (queue.length > 0) {
    for (const v of inside(queue.pop()!)) {
      if (!reached.has(v)) {
        reached.add(v);
        queue.push(v);
      }
    }
  }
  return reached.size === group.length;
}

/** Member → index of its group. */
export function groupIndex(groups: readonly (readonly string[])[]): Map<string, number> {
  const index = new Map<string, number>();
  groups.forEach((group, i) => group.forEach((id) => index.set(id, i)));
  return index;
}
