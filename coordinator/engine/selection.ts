/**
 * Seeded selection of a round's workers: the same seed, round and set of ready workers always
 * selects the same workers, which makes runs reproducible and tests deterministic.
 */
import { createRandom, shuffleInPlace } from '../../core/data/random.js';

export function selectWorkers<T extends { channel: { address: string } }>(ready: readonly T[], count: number | undefined, seed: number, round: number): T[] {
  // Sort first so the outcome does not depend on connection order.
  const sorted = [...ready].sort((a, b) => (a.channel.address < b.channel.address ? -1 : a.channel.address > b.channel.address ? 1 : 0));
  if (count === undefined || count >= sorted.length) return sorted;
  shuffleInPlace(sorted, createRandom(seed * 1_000_003 + round));
  return sorted.slice(0, count);
}
