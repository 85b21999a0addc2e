/**
 * Who can still take part: the threshold conditions of SecAgg+ per worker, on the neighbour graph.
 *
 * A worker's secrets are split among its k + 1 holders (its neighbours and itself) with threshold
 * t. A worker left with fewer than t − 1 live neighbours can neither deal usable shares nor have
 * its masks removed later, so the coordinator drops it before the next stage rather than discover
 * at unmask time that the round cannot finish (Bell et al., CCS 2020, §4: per-node thresholds).
 */

/**
 * Remove from `set`, until none is left to remove, every worker with fewer than t − 1 neighbours
 * in `set`; `onDrop` hears each one with how many neighbours it had left.
 */
export function pruneThinNeighbourhoods(
  set: Set<string>,
  neighboursOf: (id: string) => readonly string[],
  threshold: number,
  onDrop: (id: string, neighboursLeft: number) => void,
): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const u of set) {
      const left = neighboursOf(u).filter((v) => set.has(v)).length;
      if (left + 1 < threshold) {
        set.delete(u);
        onDrop(u, left);
        changed = true;
      }
    }
  }
}

export interface Unrecoverable {
  id: string;
  secret: 'self-mask' | 'key';
  holders: number;
}

/**
 * The first worker whose needed secret can no longer be reconstructed from `live` holders, if any:
 * a contributor's b (held by itself and the neighbours it masked with), or the s_sk of a worker
 * that shared keys but sent no masked input, when some contributor masked with it.
 */
export function findUnrecoverable(
  dealers: Iterable<string>,
  maskedWith: ReadonlyMap<string, readonly string[]>,
  contributors: ReadonlySet<string>,
  live: ReadonlySet<string>,
  threshold: number,
): Unrecoverable | undefined {
  for (const u of dealers) {
    const peers = maskedWith.get(u) ?? [];
    const survived = contributors.has(u);
    if (!survived && !peers.some((v) => contributors.has(v))) continue; // nothing of u's to remove
    const holders = peers.filter((v) => live.has(v)).length + (survived && live.has(u) ? 1 : 0);
    if (holders < threshold) return { id: u, secret: survived ? 'self-mask' : 'key', holders };
  }
  return undefined;
}
