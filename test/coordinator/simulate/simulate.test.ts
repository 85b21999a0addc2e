/**
 * `cohort simulate`: N in-memory clients through the real engine, SecAgg+ and DP, training in
 * worker_threads. The big one is the issue's own check: 1,000 clients of the 2NN on this machine.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryDataset } from '../../../core/data/in-memory.js';
import { buildModel } from '../../../core/models/builtin.js';
import type { TrainConfig } from '../../../core/protocol/messages.js';
import { trainLocally } from '../../../core/train/local-train.js';
import { getFlatWeights, setFlatWeights } from '../../../core/train/weights.js';
import { useCoordinatorBackend } from '../../../coordinator/evaluation/tf-backend.js';
import { exportRun } from '../../../coordinator/export/export-run.js';
import { loadRunFile } from '../../../coordinator/run-file/load.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';
import { clientShards, loadSharedMnist } from '../../../coordinator/simulate/sim-data.js';
import { simulate } from '../../../coordinator/simulate/simulate.js';
import { TrainingPool } from '../../../coordinator/simulate/training-pool.js';
import { scratchDir } from '../../e2e/helpers.js';

const COHORT = fileURLToPath(new URL('../../../bin/cohort.js', import.meta.url));
const example = (name: string): string => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));
const dir = scratchDir('cohort-simulate-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training threads', () => {
  it("train a client's round exactly as the worker's own code does in-process", async () => {
    await useCoordinatorBackend();
    const data = loadSharedMnist();
    const [shard] = clientShards(data, 500, { kind: 'iid', alpha: 0.5, shardsPerClient: 2, seed: 5 });
    const model = buildModel({ kind: 'builtin', name: '2nn' });
    const weights = await getFlatWeights(model);
    const config: TrainConfig = { localEpochs: 1, batchSize: 10, optimizer: 'sgd', lr: 0.1, maxLocalSteps: 8, seed: 123 };

    const pool = await TrainingPool.start({ threads: 2, model: { kind: 'builtin', name: '2nn' }, data });
    try {
      expect(pool.backend).toBe(tf.getBackend());
      const [a, b] = await Promise.all([pool.train(weights, shard!.indices, config), pool.train(weights, shard!.indices, config)]);
      const local = new InMemoryDataset({ pixels: data.pixelView, labels: data.labelView, indices: shard!.indices, inputShape: data.inputShape, numClasses: 10 });
      setFlatWeights(model, weights);
      const expected = await trainLocally(model, local, config);
      const after = await getFlatWeights(model);
      expect(a).toMatchObject({ examples: expected.examples, steps: 8, loss: expected.loss, accuracy: expected.accuracy });
      for (const result of [a, b]) {
        let maxDiff = 0;
        for (let i = 0; i < after.length; i++) maxDiff = Math.max(maxDiff, Math.abs(weights[i]! + result.delta[i]! - after[i]!));
        expect(maxDiff).toBeLessThan(1e-6);
      }
    } finally {
      await pool.close();
      model.dispose();
    }
  }, 60_000);
});

describe('cohort simulate', () => {
  it('runs examples/mnist-fedavg.json on 1,000 clients for 3 rounds (2NN, SecAgg+, 100 per round)', async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [COHORT, 'simulate', example('mnist-fedavg.json'), '--clients', '1000', '--rounds', '3', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      child.on('exit', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    const seconds = (Date.now() - started) / 1000;
    expect(code, stderr.slice(-3000)).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"rounds":3');
    const summary = JSON.parse(lines[0]!) as { rounds: number; status: string; clients: number; clientsPerRound: number; secureAggregation: boolean; accuracy: number; participatingClients: number; history: Array<{ durationMs: number }>; signInSeconds: number };
    expect(summary).toMatchObject({ status: 'completed', rounds: 3, clients: 1000, clientsPerRound: 100, secureAggregation: true });
    expect(summary.participatingClients).toBeGreaterThan(100);
    expect(summary.accuracy).toBeGreaterThan(0.2);
    console.log(
      `simulate 1,000 clients × 3 rounds: ${seconds.toFixed(1)} s (sign-in ${summary.signInSeconds.toFixed(1)} s, rounds ${summary.history.map((h) => (h.durationMs / 1000).toFixed(1)).join(' / ')} s), accuracy ${summary.accuracy}`,
    );
  }, 240_000);

  it('reports (ε, δ) with DP on, keeps its store on request, and that store exports', async () => {
    const storePath = join(dir, 'dp.sqlite');
    const plan = toRunPlan(loadRunFile(example('mnist-fedadam-dp.json')), { population: 10, clientsPerRound: 5, rounds: 2 });
    const summary = await simulate({ plan, clients: 10, threads: 2, storePath });
    expect(summary).toMatchObject({ status: 'completed', rounds: 2, strategy: 'fedadam', clients: 10, clientsPerRound: 5 });
    expect(summary.privacy?.delta).toBe(1e-5);
    expect(Number.isFinite(summary.privacy?.epsilon)).toBe(true);
    expect(summary.history).toHaveLength(2);
    const exported = await exportRun({ storePath, outDir: join(dir, 'dp-model') });
    expect(exported).toMatchObject({ runId: summary.runId, round: 2, final: true });
  }, 120_000);

  it('refuses what it cannot simulate', async () => {
    const local = toRunPlan(loadRunFile(example('local-data.yaml')), { population: 20, clientsPerRound: 10 });
    await expect(simulate({ plan: local, clients: 20 })).rejects.toThrow(/data: simulate splits MNIST among its clients/);
    const tooMany = toRunPlan(loadRunFile(example('simulate-1000.yaml')), { population: 20 });
    await expect(simulate({ plan: tooMany, clients: 20 })).rejects.toThrow('clientsPerRound: 50 is more than the 20 simulated clients (--clients)');
  });
});
