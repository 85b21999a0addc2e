/**
 * Crash recovery in async mode: `kill -9` a `cohort run` of a FedBuff run file (SecAgg+ groups)
 * mid-run, start it again on the same store and port, and the run goes on from its newest
 * committed version while the workers reconnect by themselves; the groups that were training
 * are lost, no version is lost or recorded twice.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../coordinator/store/run-store.js';
import { eventually, freePort, getJson, scratchDir, spawnCohort, type CohortProcess } from './helpers.js';

const RUN_FILE = `model: 2nn
data: iid
strategy: { name: fedavg }
rounds: 6
clientsPerRound: 3
minClients: 3
mode: async
bufferSize: 3
overSelect: 1
maxLocalSteps: 10
secureAggregation: true
evaluation: none
`;

describe('async coordinator crash and resume', () => {
  const processes: CohortProcess[] = [];
  const dir = scratchDir();
  afterAll(async () => {
    for (const p of processes) {
      p.kill('SIGKILL');
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes on from the newest committed version with none lost or repeated', async () => {
    const port = await freePort();
    const store = join(dir, 'async.sqlite');
    const file = join(dir, 'async.yaml');
    writeFileSync(file, RUN_FILE);
    const runArgs = ['run', file, '--port', String(port), '--store', store];
    const first = spawnCohort(runArgs);
    processes.push(first);
    await first.waitForLine(/workers connect to/);
    // Six workers: two secure groups of three can train at once.
    for (let i = 0; i < 6; i++) {
      processes.push(spawnCohort(['worker', '--coordinator', `ws://127.0.0.1:${port}/ws`, '--key', join(dir, `w${i}.key`), '--shard', `${i}/6`, '--backend', 'wasm']));
    }

    await eventually(async () => {
      const health = await getJson<{ round: number }>(`http://127.0.0.1:${port}/healthz`);
      return health.round >= 2 ? health : undefined;
    }, 150_000);
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const before = new RunStore(store);
    const runId = before.unfinishedRun()?.id;
    const completedBefore = runId ? before.lastCompletedRound(runId) : -1;
    before.close();
    expect(runId).toBeDefined();
    expect(completedBefore).toBeGreaterThanOrEqual(2);
    expect(completedBefore).toBeLessThan(6);

    const second = spawnCohort(runArgs);
    processes.push(second);
    const resumed = await second.waitForLine(/resuming after round \d+/, 60_000);
    expect(resumed).toContain(`resuming after round ${completedBefore}`);
    const { code } = await second.exited;
    expect(code).toBe(0);
    // It ran as FedBuff versions (the async loop's own words), and resumed as one.
    expect(second.output.join('\n')).toMatch(/completed 6 versions/);

    const after = new RunStore(store);
    const versions = after.rounds(runId!).map((r) => r.round);
    const run = after.getRun(runId!);
    after.close();
    expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run?.status).toBe('completed');
  }, 300_000);
});
