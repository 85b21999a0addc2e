/**
 * Crash recovery: `kill -9` the coordinator mid-run, start it again on the same store and port,
 * and the run resumes after its last completed round while the workers reconnect by themselves.
 * No round is lost and none is done twice. Sync rounds (`cohort serve`), and async FedBuff
 * versions (`cohort run` of a run file with SecAgg+ groups), whose groups in training are lost.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../coordinator/store/run-store.js';
import { eventually, freePort, getJson, scratchDir, spawnCohort, type CohortProcess } from './helpers.js';

const ASYNC_RUN_FILE = `model: 2nn
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

  /**
   * Starts the coordinator (`args` plus `--port`), `workers` workers on shards i/workers, kills the
   * coordinator once two rounds are in, restarts it, and checks that every round from 1 to `rounds`
   * is stored once. Returns the second coordinator's output.
   */
  async function crashAndResume(name: string, args: string[], workers: number, rounds: number): Promise<string> {
    const port = await freePort();
    const store = join(dir, `${name}.sqlite`);
    const coordinatorArgs = [...args, '--port', String(port), '--store', store];
    const first = spawnCohort(coordinatorArgs);
    processes.push(first);
    await first.waitForLine(/workers connect to/);
    for (let i = 0; i < workers; i++) {
      processes.push(spawnCohort(['worker', '--coordinator', `ws://127.0.0.1:${port}/ws`, '--key', join(dir, `${name}-w${i}.key`), '--shard', `${i}/${workers}`, '--backend', 'wasm']));
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
    expect(completedBefore).toBeLessThan(rounds);

    const second = spawnCohort(coordinatorArgs);
    processes.push(second);
    const resumed = await second.waitForLine(/resuming after round \d+/, 60_000);
    expect(resumed).toContain(`resuming after round ${completedBefore}`);
    const { code } = await second.exited;
    expect(code).toBe(0);

    const after = new RunStore(store);
    const stored = after.rounds(runId!).map((r) => r.round);
    const run = after.getRun(runId!);
    after.close();
    expect(stored).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));
    expect(run?.status).toBe('completed');
    return second.output.join('\n');
  }

  it('resumes after the last completed round with no round lost or repeated', async () => {
    // Three workers: the minimum for secure aggregation, which is on by default.
    await crashAndResume('sync', ['serve', '--rounds', '5', '--min-clients', '3', '--max-local-steps', '15', '--eval', 'none'], 3, 5);
  }, 300_000);

  it('async: goes on from the newest committed version with none lost or repeated', async () => {
    const file = join(dir, 'async.yaml');
    writeFileSync(file, ASYNC_RUN_FILE);
    // Six workers: two secure groups of three can train at once.
    const output = await crashAndResume('async', ['run', file], 6, 6);
    // It ran as FedBuff versions (the async loop's own words), and resumed as one.
    expect(output).toMatch(/completed 6 versions/);
  }, 300_000);
});
