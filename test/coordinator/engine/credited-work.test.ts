/**
 * The commit step credits a worker with the examples it processed, which already count every
 * local epoch (localTrain adds each batch of each epoch): with localEpochs 3, a worker that
 * processed 3 × 50 examples is credited 150, not 450, and the credit still stops at its bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoundCommit, RoundContext, RoundState } from '../../../coordinator/engine/round-state.js';
import { commit } from '../../../coordinator/engine/steps/commit.js';
import { RunStore } from '../../../coordinator/store/run-store.js';

const survivor = (address: string, examples: number) => ({ address, examples, trainLoss: 0.5, trainMs: 1, steps: 1 });

describe('commit: credited work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-credit-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('credits examples processed over all epochs once, clamped to the per-worker bound', async () => {
    // Prepare: a real store; the run's bound is 200 examples per round (maxExamplesPerWorker 2/3 of it × 3 epochs).
    const store = new RunStore(join(dir, 'store.sqlite'));
    store.createRun('r1', {});
    const committed: RoundCommit[] = [];
    const ctx = {
      runId: 'r1',
      config: { localEpochs: 3 },
      store,
      strategy: {},
      adopt: () => undefined,
      onRoundCommit: (c: RoundCommit) => committed.push(c),
    } as unknown as RoundContext;
    const state: RoundState = {
      round: 1,
      attempt: 1,
      startedAt: Date.now(),
      deadline: 0,
      global: new Float32Array(2),
      plan: { assignments: [], updateLength: 2, maxWork: 200, maxWeight: 200, coordinateBound: 1 },
      outcome: {
        aggregate: { weightedDeltaSum: new Float32Array(2), totalWeight: 350, contributors: 2 },
        survivors: [survivor('0xaaa', 3 * 50), survivor('0xbbb', 3 * 100)],
        dropped: [],
      },
      next: Float32Array.from([1, 2]),
      metrics: { accuracy: null, loss: null },
    };

    // Execute
    await commit.run(state, ctx);

    // Assert: 150 as processed; 300 clamped to the bound of 200; the store and the ledger hook agree
    const expected = [
      { address: '0xaaa', examples: 150, amount: 150 },
      { address: '0xbbb', examples: 200, amount: 200 },
    ];
    expect(store.contributions('r1').map(({ address, examples, amount }) => ({ address, examples, amount }))).toEqual(expected);
    expect(committed[0]?.contributions).toEqual(expected);
    store.close();
  });
});
