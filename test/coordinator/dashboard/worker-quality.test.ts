/**
 * The dashboard's worker table shows contribution scoring: each scored worker's quality estimate,
 * confidence and flag, from the engine's `worker-quality` event, in one delta of changed rows.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveRunState } from '../../../coordinator/dashboard/live-state.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { scratchDir } from '../../e2e/helpers.js';
import { address, FakeEngine, RUN_CONFIG } from './fake-engine.js';

describe('LiveRunState: worker quality', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  it('puts each scored worker’s quality, confidence and flag on its row', () => {
    // Prepare
    const dir = scratchDir('cohort-quality-');
    const store = new RunStore(join(dir, 'run.sqlite'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
    const engine = new FakeEngine('run-1');
    store.createRun(engine.runId, RUN_CONFIG);
    const state = new LiveRunState({ engine, store, gateway: () => undefined, providers: {}, report: () => undefined, now: () => 1_000 });
    cleanups.push(() => state.close());
    for (const i of [1, 2, 3]) engine.emit({ type: 'worker-ready', address: address(i), kind: 'node', backend: { backend: 'wasm', reason: 'fastest' }, examples: 600 });
    state.takeDelta();

    // Execute
    engine.emit({
      type: 'worker-quality',
      runId: 'run-1',
      round: 4,
      workers: [
        { address: address(1), estimate: 0.93, confidence: 0.6, factor: 0.5, flagged: false },
        { address: address(3), estimate: -0.8, confidence: 0.85, factor: 0, flagged: true },
        { address: address(9), estimate: 1, confidence: 1, factor: 1, flagged: false },
      ],
    });
    const delta = state.takeDelta();

    // Assert: only the named, known workers changed
    expect(delta?.workers?.map((w) => [w.address, w.quality, w.qualityConfidence, w.flagged])).toEqual([
      [address(1), 0.93, 0.6, false],
      [address(3), -0.8, 0.85, true],
    ]);
  });
});
