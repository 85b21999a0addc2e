/**
 * Finding what to export in a run store: a run (by id, or the newest) and one of its stored
 * checkpoints (by round, or the newest: the final model of a finished run). The store keeps the
 * flat Float32 weights of the last `keepCheckpoints` rounds of every run.
 */
import { existsSync } from 'node:fs';
import { CohortError } from '../../core/protocol/errors.js';
import type { RunRow, RunStore } from '../store/run-store.js';

export interface StoredCheckpoint {
  run: RunRow;
  round: number;
  weights: Float32Array;
}

/** E_STORE when the file is missing: opening it would create an empty store instead. */
export function assertStoreExists(path: string): void {
  if (!existsSync(path)) throw new CohortError('E_STORE', `no run store at ${path}`);
}

export function findCheckpoint(store: RunStore, runId?: string, round?: number): StoredCheckpoint {
  const run = runId === undefined ? store.listRuns()[0] : store.getRun(runId);
  if (!run) {
    const known = store.listRuns().map((r) => r.id);
    throw new CohortError('E_STORE', runId === undefined ? 'the run store holds no run' : `no run ${runId} in the store${known.length ? ` (runs: ${known.slice(0, 10).join(', ')})` : ''}`);
  }
  const rounds = store.checkpointRounds(run.id);
  if (rounds.length === 0) throw new CohortError('E_STORE', `run ${run.id} has no checkpoint yet: no round has completed`);
  const wanted = round ?? rounds.at(-1)!;
  if (!rounds.includes(wanted)) {
    throw new CohortError('E_STORE', `run ${run.id} has no checkpoint of round ${wanted}; stored: ${rounds.join(', ')} (the store keeps the last keepCheckpoints rounds)`);
  }
  const weights = store.checkpoint(run.id, wanted);
  if (!weights) throw new CohortError('E_STORE', `checkpoint of round ${wanted} of run ${run.id} disappeared while reading`);
  return { run, round: wanted, weights };
}
