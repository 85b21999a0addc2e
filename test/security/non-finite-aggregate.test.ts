/**
 * Attack: a finite update that makes the global model non-finite. A delta of 3e38 passes the
 * per-update finiteness check, but the weighted sum overflows float32. The round must be refused
 * with a stored reason before it commits: never checkpointed, so a coordinator restarted on the
 * store resumes from the last finite model, not from Infinity.
 * Real coordinator over real WebSockets, real SQLite.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../coordinator/engine/events.js';
import { startCoordinator } from '../../coordinator/app/start-coordinator.js';
import { scratchDir } from '../e2e/helpers.js';
import { attackRunConfig, filled, scriptedWorker } from './scripted-worker.js';

const HUGE = 3e38;

describe('attack: a finite delta that overflows the aggregate', () => {
  const dir = scratchDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the round, never checkpoints Infinity, and a restart resumes from a finite model', async () => {
    // Prepare: plain FedAvg, 3 rounds, a retry per round; the attacker sends 3e38 in round 2.
    const storePath = join(dir, 'run.sqlite');
    const config = attackRunConfig({ rounds: 3, minClients: 3, maxRoundRetries: 1, maxExamplesPerWorker: 100, secureAggregation: false });
    const first = await startCoordinator({ host: '127.0.0.1', port: 0, storePath, config });
    const runId = first.engine.runId;
    const honest = Array.from({ length: 2 }, () => scriptedWorker({ url: first.wsUrl, examples: 100, delta: (m) => filled(m.weights.length, 0.01) }));
    const attacker = scriptedWorker({ url: first.wsUrl, examples: 100, delta: (m) => filled(m.weights.length, m.round === 2 ? HUGE : 0.01) });
    // Stop the coordinator as soon as round 2 has an outcome, whichever it is.
    const roundTwo = new Promise<EngineEvent>((resolve) =>
      first.engine.on((e) => {
        if ((e.type === 'round-failed' || e.type === 'round-completed') && e.round === 2) resolve(e);
      }),
    );

    // Execute
    for (const w of [...honest, attacker]) w.session.start();
    const outcome = await roundTwo;
    const roundOne = first.store.latestCheckpoint(runId);
    await first.close();
    for (const w of [...honest, attacker]) await w.session.stop();
    const second = await startCoordinator({ host: '127.0.0.1', port: 0, storePath, config });

    // Assert: round 2 was refused with its reason stored, and is not in the store.
    try {
      expect(outcome.type).toBe('round-failed');
      const failures = second.store.roundFailures(runId);
      expect(failures.map((f) => f.round)).toContain(2);
      expect(failures.find((f) => f.round === 2)?.reason).toMatch(/not finite/);
      expect(second.store.rounds(runId).map((r) => r.round)).toEqual([1]);
      // The restarted coordinator resumes after round 1, from round 1's finite model.
      expect(second.resumedAfterRound).toBe(1);
      expect(roundOne?.round).toBe(1);
      const weights = second.engine.weights;
      expect(weights.every((v) => Number.isFinite(v))).toBe(true);
      expect(Array.from(weights.subarray(0, 50))).toEqual(Array.from(roundOne!.weights.subarray(0, 50)));
    } finally {
      await second.close();
    }
  }, 120_000);
});
