/**
 * Checks shared by the strategies that keep server-side state (FedAvgM's velocity, FedOpt's
 * moments): a restored state must hold exactly the expected vectors, of one length, and that
 * length must match the model the next round aggregates.
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { StrategyState } from './strategy.js';

/** Copies of the named vectors, checked to be Float32Arrays of one common length. */
export function readState(strategy: string, state: StrategyState, names: readonly string[]): Float32Array[] {
  const extra = Object.keys(state).filter((k) => !names.includes(k));
  if (extra.length > 0) {
    throw new CohortError('E_STRATEGY_STATE', `${strategy} state has unexpected entries: ${extra.join(', ')} (expected ${names.join(', ')})`);
  }
  const vectors = names.map((name) => {
    const v = state[name];
    if (!(v instanceof Float32Array)) throw new CohortError('E_STRATEGY_STATE', `${strategy} state is missing the Float32Array "${name}"`);
    return v.slice();
  });
  const length = vectors[0]?.length ?? 0;
  if (vectors.some((v) => v.length !== length)) {
    throw new CohortError('E_STRATEGY_STATE', `${strategy} state vectors ${names.join(', ')} differ in length`);
  }
  return vectors;
}

/** Refuses state kept for a model of another size (e.g. a checkpoint from another run). */
export function assertStateFits(strategy: string, stateLength: number, modelLength: number): void {
  if (stateLength !== modelLength) {
    throw new CohortError('E_STRATEGY_STATE', `${strategy} state has ${stateLength} values but the model has ${modelLength}`);
  }
}
