import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CohortError } from '../../../core/protocol/errors.js';
import { RunStore } from '../../../coordinator/store/run-store.js';

const round = (n: number) => ({
  runId: 'r1',
  round: n,
  completedAt: 1000 + n,
  durationMs: 10,
  participants: 2,
  examples: 64,
  accuracy: 0.5 + n / 100,
  loss: 1 / n,
  trainLoss: 1,
  secure: false,
});

describe('RunStore (real SQLite)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cohort-store-'));
    path = join(dir, 'store.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('records rounds, contributions and checkpoints, and survives reopening', () => {
    const store = new RunStore(path, 2);
    store.createRun('r1', { rounds: 5 });
    for (let n = 1; n <= 3; n++) store.completeRound(round(n), [{ address: '0xabc', examples: 64, amount: 64 }], Float32Array.from([n, n + 0.5]));
    store.close();

    const reopened = new RunStore(path, 2);
    expect(reopened.unfinishedRun()?.id).toBe('r1');
    expect(reopened.lastCompletedRound('r1')).toBe(3);
    expect(reopened.checkpointRounds('r1')).toEqual([2, 3]); // only the last K=2 are kept
    expect(Array.from(reopened.latestCheckpoint('r1')?.weights ?? [])).toEqual([3, 3.5]);
    expect(reopened.contributions('r1')).toHaveLength(3);
    reopened.close();
  });

  it('refuses to record the same round twice and keeps the first record', () => {
    const store = new RunStore(path);
    store.createRun('r1', {});
    store.completeRound(round(1), [], Float32Array.from([1]));
    let error: unknown;
    try {
      store.completeRound({ ...round(1), accuracy: 0.99 }, [], Float32Array.from([2]));
    } catch (e) {
      error = e;
    }
    expect((error as CohortError).code).toBe('E_STORE');
    expect(store.rounds('r1')).toHaveLength(1);
    expect(store.rounds('r1')[0]?.accuracy).toBeCloseTo(0.51);
    expect(Array.from(store.latestCheckpoint('r1')?.weights ?? [])).toEqual([1]);
    store.close();
  });

  it('ends runs so they are no longer resumed', () => {
    const store = new RunStore(path);
    store.createRun('r1', {});
    store.endRun('r1', 'completed', 'done');
    expect(store.unfinishedRun()).toBeUndefined();
    expect(store.getRun('r1')?.status).toBe('completed');
    store.close();
  });

  it('keeps a strategy\'s state per round, as typed arrays, newest only', () => {
    const store = new RunStore(path);
    store.createRun('r1', {});
    store.saveStrategyState('r1', 1, { m: Float32Array.from([1, 2]), v: Float32Array.from([3]) });
    store.saveStrategyState('r1', 2, { m: Float32Array.from([5, 6]), v: Float32Array.from([7]) });
    const state = store.strategyState('r1', 2);
    expect(state?.m).toBeInstanceOf(Float32Array);
    expect(Array.from(state?.m ?? [])).toEqual([5, 6]);
    expect(Array.from(state?.v ?? [])).toEqual([7]);
    expect(store.strategyState('r1', 1)).toBeUndefined();
    store.close();
  });

  it('reads sessions back as typed rows, open and closed', () => {
    const store = new RunStore(path);
    store.openSession({ id: 's1', runId: 'r1', address: '0xabc', kind: 'browser', connectedAt: 10 });
    store.openSession({ id: 's2', runId: null, address: '0xdef', kind: 'node', backend: 'wasm', backendReason: 'no gpu', connectedAt: 20 });
    store.updateSessionBackend('s1', 'webgpu', 'adapter found');
    store.closeSession('s1', 4014, 'replaced', 30);
    store.closeSession('s1', 1000, 'second close is ignored', 40);
    expect(store.sessions()).toEqual([
      { id: 's1', runId: 'r1', address: '0xabc', kind: 'browser', backend: 'webgpu', backendReason: 'adapter found', connectedAt: 10, disconnectedAt: 30, closeCode: 4014, closeReason: 'replaced' },
      { id: 's2', runId: null, address: '0xdef', kind: 'node', backend: 'wasm', backendReason: 'no gpu', connectedAt: 20, disconnectedAt: null, closeCode: null, closeReason: null },
    ]);
    store.close();
  });

  it('reads any kept checkpoint by round', () => {
    const store = new RunStore(path, 2);
    store.createRun('r1', {});
    for (let n = 1; n <= 3; n++) store.completeRound(round(n), [], Float32Array.from([n, -n]));
    expect(Array.from(store.checkpoint('r1', 2) ?? [])).toEqual([2, -2]);
    expect(store.checkpoint('r1', 1)).toBeUndefined(); // pruned: only the last 2 are kept
    store.close();
  });

  it('keeps a stable coordinator id', () => {
    const store = new RunStore(path);
    const id = store.coordinatorId();
    store.close();
    const again = new RunStore(path);
    expect(again.coordinatorId()).toBe(id);
    again.close();
  });
});
