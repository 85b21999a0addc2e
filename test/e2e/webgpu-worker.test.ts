/**
 * A whole run in which one Node worker is forced onto WebGPU (Dawn, on this machine Mesa's software
 * lavapipe from .ci/run) next to two wasm workers (secure aggregation needs three): real sockets, real SQLite, real MNIST, secure
 * aggregation on. The WebGPU worker's update goes through the same masks and sums as the other's.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, scratchDir, spawnCohort, type CohortProcess } from './helpers.js';

describe('a Node worker forced to webgpu', () => {
  const processes: CohortProcess[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('trains 2 rounds with two wasm workers and reports backend webgpu', async () => {
    const dir = scratchDir();
    dirs.push(dir);
    const port = await freePort();
    const serve = spawnCohort(['serve', '--port', String(port), '--store', join(dir, 'run.sqlite'), '--rounds', '2', '--min-clients', '3', '--max-local-steps', '10', '--json']);
    processes.push(serve);
    await serve.waitForLine(/workers connect to/);
    const url = `ws://127.0.0.1:${port}/ws`;
    const gpu = spawnCohort(['worker', '--coordinator', url, '--key', join(dir, 'gpu.key'), '--shard', '0/3', '--backend', 'webgpu']);
    processes.push(gpu);
    for (const i of [1, 2]) processes.push(spawnCohort(['worker', '--coordinator', url, '--key', join(dir, `cpu${i}.key`), '--shard', `${i}/3`, '--backend', 'wasm']));
    await gpu.waitForLine(/ready: backend webgpu \(webgpu: [0-9.]+ steps\/s \(requested explicitly\)\)/, 120_000);

    const { code } = await serve.exited;
    expect(code).toBe(0);
    const summary = JSON.parse(serve.output.filter((l) => l.startsWith('{')).at(-1) ?? '{}') as {
      rounds: number;
      accuracy: number;
      workers: Array<{ backend: string; roundsParticipated: number; examples: number }>;
    };
    expect(summary.rounds).toBe(2);
    expect(summary.workers.map((w) => w.backend).sort()).toEqual(['wasm', 'wasm', 'webgpu']);
    for (const w of summary.workers) expect(w.roundsParticipated).toBe(2);
    // 60 federated Adam steps of the 2NN: far above chance (10%) only if every update was sound.
    expect(summary.accuracy).toBeGreaterThan(0.5);
  }, 240_000);
});
