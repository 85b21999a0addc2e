/**
 * The per-worker speed estimate: it starts from the benchmark the worker reported, follows the
 * rounds the coordinator measures (an EWMA), is pulled down by a round the worker did not finish
 * in time, and survives a rejoin on the same backend only.
 */
import { describe, expect, it } from 'vitest';
import { SPEED_EWMA_ALPHA, noteResultArrived, observeSpeed, observeTooSlow, statsForReady, type WorkerStats } from '../../../coordinator/engine/worker-stats.js';
import type { ReadyWorker } from '../../../coordinator/transport/channel.js';

function ready(backend: string, stepsPerSecond?: number): ReadyWorker {
  return { channel: { address: '0xabc', kind: 'node' }, backend: { backend, reason: 'test', ...(stepsPerSecond === undefined ? {} : { stepsPerSecond }) }, examples: 100 } as unknown as ReadyWorker;
}

describe('worker speed estimate', () => {
  it('starts from the reported benchmark; 0 or none is unknown', () => {
    expect(statsForReady(ready('wasm', 90), undefined).stepsPerSecond).toBe(90);
    expect(statsForReady(ready('wasm', 0), undefined).stepsPerSecond).toBeUndefined();
    expect(statsForReady(ready('wasm'), undefined).stepsPerSecond).toBeUndefined();
  });

  it('follows measured rounds as an exponentially weighted average', () => {
    const stats = statsForReady(ready('wasm', 100), undefined);
    observeSpeed(stats, 20, 1); // measured 20 steps/s
    expect(stats.stepsPerSecond).toBeCloseTo(SPEED_EWMA_ALPHA * 20 + (1 - SPEED_EWMA_ALPHA) * 100, 10);
    const unknown = statsForReady(ready('wasm'), undefined);
    observeSpeed(unknown, 30, 2);
    expect(unknown.stepsPerSecond).toBe(15);
    // Nothing measured (no step, or no time) changes nothing.
    observeSpeed(unknown, 0, 2);
    observeSpeed(unknown, 10, 0);
    expect(unknown.stepsPerSecond).toBe(15);
  });

  it('moves toward the bound a cut round gives, and never up', () => {
    const stats = statsForReady(ready('webgpu', 100), undefined);
    observeTooSlow(stats, 50, 5); // had not done 50 steps in 5 s: below 10 steps/s
    expect(stats.stepsPerSecond).toBeCloseTo(SPEED_EWMA_ALPHA * 10 + (1 - SPEED_EWMA_ALPHA) * 100, 10);
    const slow = statsForReady(ready('webgpu', 2), undefined);
    observeTooSlow(slow, 50, 5);
    expect(slow.stepsPerSecond).toBe(2);
  });

  it('keeps a measured estimate across a rejoin on the same backend, not on a new one', () => {
    const first: WorkerStats = { ...statsForReady(ready('wasm', 100), undefined), stepsPerSecond: 12, roundsParticipated: 3 };
    expect(statsForReady(ready('wasm', 100), first).stepsPerSecond).toBe(12);
    const moved = statsForReady(ready('webgpu', 40), first);
    expect([moved.stepsPerSecond, moved.roundsParticipated]).toEqual([40, 3]);
  });

  it('records when a result arrived, for known workers only', () => {
    const stats = new Map([['0xabc', statsForReady(ready('wasm', 1), undefined)]]);
    noteResultArrived(stats, '0xabc', 1234);
    noteResultArrived(stats, '0xdef', 1234);
    expect(stats.get('0xabc')?.lastResultAt).toBe(1234);
    expect(stats.size).toBe(1);
  });
});
