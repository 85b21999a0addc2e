/**
 * Attack: a malicious masked input. Under SecAgg+ the coordinator cannot see any one input, so a
 * hostile worker can add to its masked words (or shift its weight word) and the unmasked sum
 * carries the shift: 2^30 on every word gave sum[0] = 32769 where 4 contributors with clip 1
 * allow at most 4. The round must be refused by the aggregate bounds check, its reason stored,
 * and never reported as a success or committed.
 * Real coordinator over real WebSockets, the real SecAgg+ client (in the real worker session)
 * and server; the attacker rewrites only its own masked-input frame.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerMessage } from '../../core/protocol/messages.js';
import { SECAGG_STAGE } from '../../core/protocol/secagg.js';
import { startCoordinator } from '../../coordinator/app/start-coordinator.js';
import { scratchDir } from '../e2e/helpers.js';
import { attackRunConfig, filled, scriptedWorker } from './scripted-worker.js';

const SHIFT = 2 ** 30;

/** Adds SHIFT (mod 2^32) to the chosen words of the masked vector: all but the last, or the last (the weight). */
function shiftMaskedInput(words: 'values' | 'weight') {
  return (message: WorkerMessage): WorkerMessage => {
    if (!('stage' in message) || message.stage !== SECAGG_STAGE.maskedInput) return message;
    const masked = message.masked.slice();
    const last = masked.length - 1;
    for (let i = 0; i < masked.length; i++) {
      if ((words === 'weight') === (i === last)) masked[i] = (masked[i]! + SHIFT) >>> 0;
    }
    return { ...message, masked };
  };
}

describe('attack: a malicious masked input', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it.each([
    ['adds 2^30 to the masked words', 'values' as const, /sum coordinate/],
    ['shifts the weight word', 'weight' as const, /total weight/],
  ])('%s: the round is refused by the bounds check, not reported as success', async (_name, words, reason) => {
    // Prepare: four workers under SecAgg+, clip 1; one rewrites its masked input.
    const dir = scratchDir();
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: attackRunConfig({ clientsPerRound: 4, maxExamplesPerWorker: 100, secureAggregation: { clipRange: 1, stageTimeoutMs: 20_000 } }),
    });
    cleanups.push(async () => {
      await coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const delta = (m: { weights: Float32Array }) => filled(m.weights.length, 0.01);
    const workers = [
      ...Array.from({ length: 3 }, () => scriptedWorker({ url: coordinator.wsUrl, examples: 100, delta })),
      scriptedWorker({ url: coordinator.wsUrl, examples: 100, delta, tamper: shiftMaskedInput(words) }),
    ];
    const before = coordinator.engine.weights.slice();

    // Execute
    for (const w of workers) w.session.start();
    const summary = await coordinator.done;
    for (const w of workers) await w.session.stop();

    // Assert: the round failed with the check's reason; nothing was committed or changed.
    const runId = coordinator.engine.runId;
    expect(summary.status).toBe('failed');
    expect(summary.rounds).toBe(0);
    expect(coordinator.store.rounds(runId)).toEqual([]);
    expect(coordinator.store.contributions(runId)).toEqual([]);
    const failures = coordinator.store.roundFailures(runId);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.reason).toMatch(/aggregate check refused the round/);
    expect(failures[0]!.reason).toMatch(reason);
    expect(Array.from(coordinator.engine.weights.subarray(0, 100))).toEqual(Array.from(before.subarray(0, 100)));
  }, 120_000);
});
