/**
 * Attack: declaring an unbounded number of examples. A worker's `examples` cannot be checked, so
 * a run bounds it with `maxExamplesPerWorker`:
 * - plain rounds: one worker that declares 10^12 examples and sends a delta of 0.5 must count as
 *   one worker with the most work the run credits, not move the model by 0.5;
 * - SecAgg+: `ready.examples = 10^15` must not set the round's weight cap (which pushed every
 *   honest weight to the 10^-9 floor, so the attacker's update became the mean).
 * Also: the credited contribution (the reward) is clamped to the same bound.
 * Real coordinator, real WebSockets, real SecAgg+ client and server.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { scratchDir } from '../e2e/helpers.js';
import { attackRunConfig, filled, scriptedWorker } from './scripted-worker.js';

const MAX_EXAMPLES = 200;
const ATTACK_DELTA = 0.5;

describe('attack: unbounded declared examples', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function coordinatorWith(secureAggregation: false | object): Promise<Coordinator> {
    const dir = scratchDir();
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: attackRunConfig({ maxExamplesPerWorker: MAX_EXAMPLES, clientsPerRound: 4, secureAggregation }),
    });
    cleanups.push(async () => {
      await coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return coordinator;
  }

  /** Three honest workers with a zero delta, one attacker with 0.5 and `declared` examples. */
  async function attack(coordinator: Coordinator, honestExamples: number, declared: number) {
    const honest = Array.from({ length: 3 }, () => scriptedWorker({ url: coordinator.wsUrl, examples: honestExamples, delta: (m) => filled(m.weights.length, 0) }));
    const attacker = scriptedWorker({ url: coordinator.wsUrl, examples: declared, delta: (m) => filled(m.weights.length, ATTACK_DELTA) });
    const before = coordinator.engine.weights.slice();
    for (const w of [...honest, attacker]) w.session.start();
    const summary = await coordinator.done;
    for (const w of [...honest, attacker]) await w.session.stop();
    const after = coordinator.engine.weights;
    const moved = Array.from(after.subarray(0, 100), (v, i) => v - before[i]!);
    const credited = coordinator.store.contributions(coordinator.engine.runId).find((c) => c.address === attacker.wallet.address);
    return { summary, moved, credited };
  }

  it('plain round: 1e12 declared examples weigh as the run bound, not as 10^12', async () => {
    // Prepare
    const coordinator = await coordinatorWith(false);
    // Execute
    const { summary, moved, credited } = await attack(coordinator, 100, 1e12);
    // Assert: weights 200 (clamped) against 3 × 100, so the mean delta is 0.5 · 200 / 500 = 0.2.
    expect(summary.status).toBe('completed');
    for (const m of moved) expect(m).toBeCloseTo((ATTACK_DELTA * MAX_EXAMPLES) / (MAX_EXAMPLES + 300), 5);
    // The reward is bounded the same way: examples × local epochs, with examples clamped.
    expect(credited).toMatchObject({ examples: MAX_EXAMPLES, amount: MAX_EXAMPLES });
  }, 120_000);

  it('SecAgg+: ready.examples = 1e15 does not set the weight cap', async () => {
    // Prepare: every honest worker holds the run's bound, so each honest weight is 1.
    const coordinator = await coordinatorWith({ stageTimeoutMs: 20_000 });
    // Execute
    const { summary, moved, credited } = await attack(coordinator, MAX_EXAMPLES, 1e15);
    // Assert: four workers of weight 1: the attacker moves the model by 0.5 / 4, within quantization.
    expect(summary.status).toBe('completed');
    expect(summary.secureAggregation).toBe(true);
    for (const m of moved) expect(Math.abs(m - ATTACK_DELTA / 4)).toBeLessThan(1e-3);
    expect(credited).toMatchObject({ examples: MAX_EXAMPLES, amount: MAX_EXAMPLES });
  }, 120_000);
});
