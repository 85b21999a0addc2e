/**
 * Crash recovery: `kill -9` the coordinator mid-run, start `cohort serve` again on the same store
 * and port, and the run resumes after its last completed round while the workers reconnect by
 * themselves. No round is lost and none is done twice.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../coordinator/store/run-store.js';
import { eventually, freePort, getJson, scratchDir, spawnCohort, type CohortProcess } from './helpers.js';

describe('coordinator crash and resume', () => {
  const processes: CohortProcess[] = [];
  const dir = scratchDir();
  afterAll(async () => {
    for (const p of processes) {
      p.kill('SIGKILL');
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes after the last completed round with no round lost or repeated', async () => {
    const port = await freePort();
    const store = join(dir, 'run.sqlite');
    const serveArgs = ['serve', '--port', String(port), '--store', store, '--rounds', '5', '--min-clients', '3', '--max-local-steps', '15', '--eval', 'none'];
    const first = spawnCohort(serveArgs);
    processes.push(first);
    await first.waitForLine(/workers connect to/);
    // Three workers: the minimum for secure aggregation, which is on by default.
    for (let i = 0; i < 3; i++) {
      processes.push(spawnCohort(['worker', '--coordinator', `ws://127.0.0.1:${port}/ws`, '--key', join(dir, `w${i}.key`), '--shard', `${i}/3`, '--backend', 'wasm']));
    }

    // Let two rounds complete, then kill the coordinator without warning.
    await eventually(async () => {
      const health = await getJson<{ round: number }>(`http://127.0.0.1:${port}/healthz`);
      return health.round >= 2 ? health : undefined;
    }, 150_000);
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');

    const before = new RunStore(store);
    const runId = before.unfinishedRun()?.id;
    const completedBefore = runId ? before.lastCompletedRound(runId) : -1;
    before.close();
    expect(runId).toBeDefined();
    expect(completedBefore).toBeGreaterThanOrEqual(2);
    expect(completedBefore).toBeLessThan(5);

    const second = spawnCohort(serveArgs);
    processes.push(second);
    const resumed = await second.waitForLine(/resuming after round \d+/, 60_000);
    expect(resumed).toContain(`resuming after round ${completedBefore}`);
    const { code } = await second.exited;
    expect(code).toBe(0);

    const after = new RunStore(store);
    const rounds = after.rounds(runId!).map((r) => r.round);
    const run = after.getRun(runId!);
    after.close();
    expect(rounds).toEqual([1, 2, 3, 4, 5]);
    expect(run?.status).toBe('completed');
  }, 300_000);
});
