/**
 * The async pacer: while the coordinator is busy with a group that just filled, the fleet clock
 * releases nothing, so the groups it forms next start at the fill's fleet time, not at the
 * finish of whatever replies were ready meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import type { EngineEvent } from '../../../coordinator/engine/events.js';
import { AsyncPacer, groupCloseAfter } from '../../../coordinator/simulate/async-pacer.js';
import { FleetClock } from '../../../coordinator/simulate/fleet-clock.js';

const config = parseRunConfig({
  model: { kind: 'builtin', name: '2nn' },
  rounds: 5,
  minClients: 1,
  roundTimeoutMs: 1000,
  maxRoundRetries: 0,
  localEpochs: 1,
  batchSize: 32,
  optimizer: 'sgd',
  lr: 0.1,
  partition: { kind: 'iid', seed: 1 },
  seed: 1,
  evaluation: 'none',
  keepCheckpoints: 1,
  secureAggregation: false,
  mode: 'async',
  bufferSize: 3,
  clientsPerRound: 3,
  overSelect: 1.4,
});

const tick = (ms = 40): Promise<void> => new Promise((r) => setTimeout(r, ms));

function started(round: number, selected: string[]): EngineEvent {
  return { type: 'round-started', runId: 'r', round, attempt: 1, selected, deadline: 0 };
}

function completed(version: number, group: number): EngineEvent {
  return { type: 'round-completed', runId: 'r', round: version, group, staleness: 0, participants: 3, examples: 3, accuracy: null, loss: null, trainLoss: null, durationMs: 0, dropped: [], backends: [] };
}

describe('async pacer', () => {
  it('closes a group after bufferSize replies, as the collect step does', () => {
    expect(groupCloseAfter(config, 5)).toBe(3);
    expect(groupCloseAfter(config, 2)).toBe(2);
  });

  it('holds the clock from a group\'s filling reply until its version is out and the next group has registered', async () => {
    const clock = new FleetClock();
    const pacer = new AsyncPacer(clock, config);
    const released: number[] = [];
    const hold = (round: number, seconds: number): Promise<void> => clock.hold(seconds, Promise.resolve(), undefined, { round, kind: 'reply' }).then(() => void released.push(clock.now));

    pacer.onEvent(started(1, ['a', 'b', 'c', 'd', 'e']));
    // Five members, all trained already: fleet finishes at 1, 2, 3, 40 and 50 s.
    void [1, 2, 3, 40, 50].map((s) => hold(1, s));
    await tick();
    // The third reply fills the group; the stragglers' replies (40 s, 50 s) must wait.
    expect(released).toEqual([1, 2, 3]);
    expect(clock.now).toBe(3);

    // The coordinator commits group 1 as version 1 and forms group 2 from the freed workers.
    pacer.onEvent(completed(1, 1));
    pacer.onEvent(started(2, ['a', 'b', 'c', 'f', 'g']));
    await tick();
    expect(released).toEqual([1, 2, 3]); // group 2's members have not registered yet
    const second = [4, 5, 6, 7, 8].map((s) => hold(2, s));
    await Promise.race(second);
    await tick();
    // Group 2 started at 3 s, the fill of group 1: its replies come at 7, 8, 9 s, before the 40 s straggler.
    expect(released.slice(0, 6)).toEqual([1, 2, 3, 7, 8, 9]);
  });

  it('lets the clock go when the run ends while a group is being processed', async () => {
    const clock = new FleetClock();
    const pacer = new AsyncPacer(clock, config);
    const released: number[] = [];
    pacer.onEvent(started(1, ['a', 'b', 'c', 'd']));
    void [1, 2, 3, 4].map((s) => clock.hold(s, Promise.resolve(), undefined, { round: 1, kind: 'reply' }).then(() => void released.push(s)));
    await tick();
    expect(released).toEqual([1, 2, 3]);
    pacer.onEvent({ type: 'run-ended', runId: 'r', status: 'completed', reason: 'done' });
    await tick();
    expect(released).toEqual([1, 2, 3, 4]);
  });
});
