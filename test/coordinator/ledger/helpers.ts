/** Shared set-up for the ledger suites: a real SQLite run store, and rounds completed through it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoundCommit } from '../../../coordinator/engine/run-engine.js';
import { RunStore } from '../../../coordinator/store/run-store.js';

export interface TempStore {
  readonly dir: string;
  readonly path: string;
  store: RunStore;
  /** Closes and opens the store again on the same file (a coordinator restart). */
  reopen(): RunStore;
  cleanup(): void;
}

export function tempStore(runId = 'run-1'): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-ledger-'));
  const path = join(dir, 'run.sqlite');
  const t: TempStore = {
    dir,
    path,
    store: new RunStore(path),
    reopen() {
      t.store.close();
      t.store = new RunStore(path);
      return t.store;
    },
    cleanup() {
      t.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.store.createRun(runId, { rounds: 3 });
  return t;
}

/**
 * Completes a round the way RunEngine does: store.completeRound with the engine's RoundCommit
 * handed to `onRoundCommit` inside the same transaction (whose store writes join it).
 */
export function completeRound(
  store: RunStore,
  runId: string,
  round: number,
  contributions: ReadonlyArray<{ address: string; examples: number; amount: number }>,
  onRoundCommit: (commit: RoundCommit) => void,
): void {
  const weights = Float32Array.from([round, round / 2, -round]);
  store.completeRound(
    {
      runId, round, completedAt: 1_000 + round, durationMs: 5, participants: contributions.length,
      examples: contributions.reduce((n, c) => n + c.examples, 0), accuracy: null, loss: null, trainLoss: null, secure: false,
    },
    contributions,
    weights,
    () => onRoundCommit({ runId, round, contributions, weights }),
  );
}

/** `examples` examples with `epochs` local epochs: the engine's declared work. */
export const work = (address: string, examples: number, epochs = 1): { address: string; examples: number; amount: number } => ({
  address,
  examples,
  amount: examples * epochs,
});
