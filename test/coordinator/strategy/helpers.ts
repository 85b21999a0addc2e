import type { IndividualUpdate, RoundAggregate } from '../../../coordinator/strategy/strategy.js';
import { weightedSum } from '../../../coordinator/strategy/vector-math.js';

/** A round's aggregate built from plain [delta, weight] pairs, with the individual updates kept. */
export function roundOf(updates: ReadonlyArray<[number[], number]>, options: { individual?: boolean } = {}): RoundAggregate {
  const length = updates[0]?.[0].length ?? 0;
  const individual: IndividualUpdate[] = updates.map(([delta, weight], i) => ({
    delta: Float32Array.from(delta),
    weight,
    address: `0x${String(i + 1).padStart(40, '0')}`,
  }));
  const aggregate: RoundAggregate = {
    weightedDeltaSum: weightedSum(
      individual.map((u) => ({ vector: u.delta, weight: u.weight })),
      length,
    ),
    totalWeight: updates.reduce((s, [, w]) => s + w, 0),
    contributors: updates.length,
  };
  return options.individual === false ? aggregate : { ...aggregate, individualUpdates: individual };
}

export const vec = (...xs: number[]): Float32Array => Float32Array.from(xs);
