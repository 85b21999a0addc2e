/**
 * `cohort demo` round time with and without secure aggregation, measured in the same run of this
 * benchmark: the same 4 Node worker processes' setup (2NN, IID MNIST shards, max 150 local steps),
 * once with SecAgg+ and once without, alternating so that machine load affects both alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkers } from '../coordinator/cli/local-workers.js';
import { parseRunConfig } from '../coordinator/engine/run-config.js';
import { startCoordinator } from '../coordinator/app/start-coordinator.js';

const WORKERS = 4;
const ROUNDS = 4;

async function roundTimes(secure: boolean): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-bench-'));
  const coordinator = await startCoordinator({
    host: '127.0.0.1',
    port: 0,
    storePath: join(dir, 'run.sqlite'),
    config: parseRunConfig({
      model: { kind: 'builtin', name: '2nn' },
      rounds: ROUNDS,
      minClients: WORKERS,
      roundTimeoutMs: 600_000,
      maxRoundRetries: 0,
      localEpochs: 1,
      batchSize: 32,
      optimizer: 'adam',
      lr: 0.001,
      maxLocalSteps: 150,
      partition: { kind: 'iid', seed: 1 },
      seed: 1,
      evaluation: 'mnist',
      keepCheckpoints: 1,
      secureAggregation: secure ? {} : false,
    }),
  });
  const workers = new LocalWorkers();
  workers.start(Array.from({ length: WORKERS }, (_, i) => ({ coordinator: coordinator.wsUrl, keyFile: join(dir, `w${i}.key`), shard: { index: i, count: WORKERS }, backend: 'wasm' })));
  await coordinator.done;
  const times = coordinator.store.rounds(coordinator.engine.runId).map((r) => r.durationMs);
  await workers.stop();
  await coordinator.close();
  rmSync(dir, { recursive: true, force: true });
  return times;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<string> {
  const plain: number[] = [];
  const secure: number[] = [];
  for (let i = 0; i < 2; i++) {
    plain.push(...(await roundTimes(false)));
    secure.push(...(await roundTimes(true)));
  }
  const p = median(plain);
  const s = median(secure);
  return [
    `| demo round (${WORKERS} workers, 2NN, ≤150 local steps, evaluation included) | median of ${plain.length} rounds |`,
    `|---|---|`,
    `| plain FedAvg | ${(p / 1000).toFixed(2)} s |`,
    `| with SecAgg+ | ${(s / 1000).toFixed(2)} s |`,
    `| ratio | ${(s / p).toFixed(2)}× (target ≤ 1.3×) |`,
  ].join('\n');
}
