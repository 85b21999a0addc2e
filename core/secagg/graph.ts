/**
 * The round's neighbour graph: who shares masks and secrets with whom.
 *
 * Bell et al. (CCS 2020, §3) replace SecAgg's complete graph with a random k-regular graph, k =
 * O(log n): a Harary graph H(k, n) — nodes on a ring, each joined to the k/2 nearest on either
 * side — whose nodes are relabelled by a random permutation. Every worker then talks to k
 * neighbours instead of n − 1, and the graph is symmetric by construction.
 *
 * The permutation is derived from the round's 32-byte seed and the sorted participant list, so
 * the coordinator and every worker compute the same graph and a worker can check that the peers
 * it is shown really are its neighbours. With n ≤ k + 1 the graph is complete.
 *
 * @example
 * const graph = await buildNeighbourGraph(sortedIds, seed, config.neighbours);
 * graph.neighboursOf(myId); // sorted ids
 */
import { CohortError } from '../protocol/errors.js';
import { effectiveNeighbours } from './config.js';
import { expandMask, sha256 } from './crypto.js';

export interface NeighbourGraph {
  /** Sorted participant ids. */
  readonly participants: readonly string[];
  /** Each worker's degree (k rounded up to even, at most n − 1). */
  readonly degree: number;
  /** The neighbours of `id` (sorted), excluding `id`; throws for a non-participant. */
  neighboursOf(id: string): readonly string[];
  /** True if a and b are neighbours. */
  areNeighbours(a: string, b: string): boolean;
}

/** True if `ids` is strictly increasing (sorted, no duplicates) in code-unit order. */
export function isSortedUnique(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) if (!(ids[i - 1]! < ids[i]!)) return false;
  return true;
}

const DOMAIN = new TextEncoder().encode('cohort/secagg/graph/v1');

/**
 * A uniform permutation of 0..n−1 (Fisher–Yates) driven by an AES-CTR stream keyed from SHA-256 of
 * domain ‖ seed. The graph uses its own domain; other users (scoring-groups.ts) pass theirs.
 */
export async function seededPermutation(n: number, seed: Uint8Array, domain: Uint8Array = DOMAIN): Promise<Uint32Array> {
  const keyInput = new Uint8Array(domain.byteLength + seed.byteLength);
  keyInput.set(domain);
  keyInput.set(seed, domain.byteLength);
  const words = await expandMask(await sha256(keyInput), 2 * n);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    // 53 random bits per draw: the modulo bias of a 32-bit draw would be measurable for large n.
    const r = (words[2 * i]! * 2 ** 21 + (words[2 * i + 1]! >>> 11)) / 2 ** 53;
    const j = Math.floor(r * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/**
 * Build the graph. `participants` must be sorted and unique (it is what both sides agree on);
 * `neighbours` is the configured k.
 */
export async function buildNeighbourGraph(participants: readonly string[], seed: Uint8Array, neighbours: number): Promise<NeighbourGraph> {
  const n = participants.length;
  if (n < 2 || !isSortedUnique(participants)) {
    throw new CohortError('E_SECAGG_INVALID', 'participants must be at least 2 sorted, unique ids');
  }
  if (seed.byteLength !== 32) throw new CohortError('E_SECAGG_INVALID', 'the graph seed must be 32 bytes');
  const degree = effectiveNeighbours(neighbours, n);
  const index = new Map<string, number>();
  participants.forEach((id, i) => index.set(id, i));
  const indexOf = (id: string): number => {
    const i = index.get(id);
    if (i === undefined) throw new CohortError('E_SECAGG_INVALID', `${id} is not a participant of this round`);
    return i;
  };

  if (degree === n - 1) {
    return {
      participants,
      degree,
      neighboursOf: (id) => (indexOf(id), participants.filter((p) => p !== id)),
      areNeighbours: (a, b) => a !== b && index.has(a) && index.has(b),
    };
  }

  // ringPosition[participant index] = position on the Harary ring; atPosition is its inverse.
  const atPosition = await seededPermutation(n, seed);
  const ringPosition = new Uint32Array(n);
  for (let pos = 0; pos < n; pos++) ringPosition[atPosition[pos]!] = pos;
  const half = degree / 2;
  const cache = new Map<string, readonly string[]>();
  const ringDistance = (a: number, b: number): number => {
    const d = Math.abs(ringPosition[a]! - ringPosition[b]!);
    return Math.min(d, n - d);
  };

  return {
    participants,
    degree,
    neighboursOf(id) {
      const hit = cache.get(id);
      if (hit) return hit;
      const pos = ringPosition[indexOf(id)]!;
      const out: string[] = [];
      for (let step = 1; step <= half; step++) {
        out.push(participants[atPosition[(pos + step) % n]!]!, participants[atPosition[(pos - step + n) % n]!]!);
      }
      out.sort();
      cache.set(id, out);
      return out;
    },
    areNeighbours(a, b) {
      if (a === b || !index.has(a) || !index.has(b)) return false;
      const d = ringDistance(indexOf(a), indexOf(b));
      return d >= 1 && d <= half;
    },
  };
}
