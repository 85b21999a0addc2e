/**
 * The dashboard's worker table shows capability-aware work: each worker's speed estimate and the
 * steps it was given, from the engine's `work-assigned` event, in one delta of changed rows.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveRunState } from '../../../coordinator/dashboard/live-state.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { scratchDir } from '../../e2e/helpers.js';
import { address, FakeEngine, RUN_CONFIG } from './fake-engine.js';

describe('LiveRunState: work assigned', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  it('puts each worker’s speed estimate and assigned steps on its row', () => {
    // Prepare
    const dir = scratchDir('cohort-work-');
    const store = new RunStore(join(dir, 'run.sqlite'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
    const engine = new FakeEngine('run-1');
    store.createRun(engine.runId, RUN_CONFIG);
    const state = new LiveRunState({ engine, store, gateway: () => undefined, providers: {}, report: () => undefined, now: () => 1_000 });
    cleanups.push(() => state.close());
    for (const i of [1, 2, 3]) engine.emit({ type: 'worker-ready', address: address(i), kind: 'node', backend: { backend: 'wasm', reason: 'fastest', stepsPerSecond: 10 * i }, examples: 600 });
    state.takeDelta();

    // Execute
    engine.emit({
      type: 'work-assigned',
      runId: 'run-1',
      round: 1,
      workers: [
        { address: address(1), stepsPerSecond: 10, maxLocalSteps: 100 },
        { address: address(2), stepsPerSecond: null, maxLocalSteps: null },
        { address: address(9), stepsPerSecond: 5, maxLocalSteps: 50 },
      ],
    });
    const delta = state.takeDelta();

    // Assert: only the named, known workers changed
    expect(delta?.workers?.map((w) => [w.address, w.stepsPerSecond, w.assignedSteps])).toEqual([
      [address(1), 10, 100],
      [address(2), null, null],
    ]);
  });
});
