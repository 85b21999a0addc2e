/**
 * `cohort export`: a stored checkpoint becomes a tfjs LayersModel that tf.loadLayersModel loads,
 * through its manifest, from files and over HTTP, and whose predictions are the coordinator's
 * weights' predictions; the run's config and metrics sit beside it.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../core/models/builtin.js';
import type { ModelSpec } from '../../../core/protocol/messages.js';
import { getFlatWeights, setFlatWeights } from '../../../core/train/weights.js';
import { exportRun } from '../../../coordinator/export/export-run.js';
import { loadRunFile, validateRunFile } from '../../../coordinator/run-file/load.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { scratchDir } from '../../e2e/helpers.js';

const dir = scratchDir('cohort-export-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file:// loader for Node without tfjs-node: model.json, then the shards its manifest names. */
function fileHandler(modelJson: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(modelJson, 'utf8')) as tf.io.ModelJSON;
      const folder = modelJson.slice(0, modelJson.lastIndexOf('/'));
      const shards = json.weightsManifest.flatMap((group) => group.paths.map((p) => new Uint8Array(readFileSync(join(folder, p)))));
      const weightData = tf.io.CompositeArrayBuffer.join(shards.map((s) => s.buffer.slice(s.byteOffset, s.byteOffset + s.byteLength)));
      return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData, format: json.format };
    },
  };
}

/** What the run's weights predict, computed directly. */
function predictWith(spec: ModelSpec, weights: Float32Array, input: tf.Tensor): Float32Array {
  const model = buildModel(spec);
  setFlatWeights(model, weights);
  const out = (model.predict(input) as tf.Tensor).dataSync() as Float32Array;
  model.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A store with one run of `spec` and checkpoints of rounds 1..3 (it keeps the last 2). */
async function storeWithRun(name: string, spec: ModelSpec, end: boolean): Promise<{ path: string; runId: string; weights: Map<number, Float32Array> }> {
  const path = join(dir, `${name}.sqlite`);
  const config = toRunPlan(validateRunFile({ model: '2nn', rounds: 3, keepCheckpoints: 2 }, dir)).config;
  const store = new RunStore(path, 2);
  const runId = `run-${name}`;
  store.createRun(runId, { ...config, model: spec, runId });
  const model = buildModel(spec);
  const base = await getFlatWeights(model);
  model.dispose();
  const weights = new Map<number, Float32Array>();
  for (let round = 1; round <= 3; round++) {
    const w = base.map((v, i) => v + 0.01 * round * Math.sin(i));
    weights.set(round, w);
    const row = { runId, round, completedAt: Date.now(), durationMs: 10, participants: 3, examples: 300, accuracy: 0.5 + round / 10, loss: 1 / round, trainLoss: 1, secure: true };
    store.completeRound(row, [], w);
  }
  if (end) store.endRun(runId, 'completed', 'completed 3 rounds');
  store.close();
  return { path, runId, weights };
}

describe('cohort export', () => {
  const spec: ModelSpec = { kind: 'builtin', name: '2nn' };
  let input: tf.Tensor;
  beforeAll(() => {
    input = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 3);
  });

  it("writes the final model, which tf.loadLayersModel loads and which predicts what the run's weights predict", async () => {
    const { path, runId, weights } = await storeWithRun('final', spec, true);
    const out = join(dir, 'final-model');
    const result = await exportRun({ storePath: path, outDir: out });
    expect(result).toMatchObject({ runId, round: 3, final: true, parameters: 199_210 });
    expect(result.files.map((f) => f.slice(out.length + 1))).toEqual(['model.json', 'group1-shard1of1.bin', 'run.json']);

    const modelJson = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest).toEqual([{ paths: ['group1-shard1of1.bin'], weights: expect.any(Array) }]);
    expect(readFileSync(join(out, 'group1-shard1of1.bin')).byteLength).toBe(199_210 * 4);

    const loaded = await tf.loadLayersModel(fileHandler(join(out, 'model.json')));
    const got = (loaded.predict(input) as tf.Tensor).dataSync() as Float32Array;
    expect(maxAbsDiff(got, predictWith(spec, weights.get(3)!, input))).toBeLessThan(1e-6);
    expect(maxAbsDiff(await getFlatWeights(loaded), weights.get(3)!)).toBe(0);
    loaded.dispose();

    const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ format: 'cohort-export/1', runId, round: 3, final: true, status: 'completed', parameters: 199_210 });
    expect(record.config).toMatchObject({ model: spec, rounds: 3 });
    expect((record.rounds as Array<{ round: number; accuracy: number }>).map((r) => [r.round, r.accuracy])).toEqual([[1, 0.6], [2, 0.7], [3, 0.8]]);
  });

  it('loads over HTTP, the way a browser app would', async () => {
    const out = join(dir, 'final-model');
    const server: Server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(out, (req.url ?? '/').slice(1))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;
      const loaded = await tf.loadLayersModel(url);
      expect(loaded.countParams()).toBe(199_210);
      loaded.dispose();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('exports an older stored checkpoint of a run by id and round', async () => {
    const { path, runId, weights } = await storeWithRun('older', spec, false);
    const out = join(dir, 'round-2');
    const result = await exportRun({ storePath: path, outDir: out, runId, round: 2 });
    expect(result).toMatchObject({ runId, round: 2, final: false });
    const loaded = await tf.loadLayersModel(fileHandler(join(out, 'model.json')));
    expect(maxAbsDiff(await getFlatWeights(loaded), weights.get(2)!)).toBe(0);
    loaded.dispose();
  });

  it('exports a custom Layers model', async () => {
    const custom = loadRunFile(fileURLToPath(new URL('../../../examples/custom-model.yaml', import.meta.url))).model;
    const { path, weights } = await storeWithRun('custom', custom, true);
    const out = join(dir, 'custom');
    await exportRun({ storePath: path, outDir: out });
    const loaded = await tf.loadLayersModel(fileHandler(join(out, 'model.json')));
    expect(loaded.countParams()).toBe(50_890);
    const got = (loaded.predict(input) as tf.Tensor).dataSync() as Float32Array;
    expect(maxAbsDiff(got, predictWith(custom, weights.get(3)!, input))).toBeLessThan(1e-6);
    loaded.dispose();
  });

  it('says what is missing: a store, a run, a round', async () => {
    const { path, runId } = await storeWithRun('missing', spec, true);
    await expect(exportRun({ storePath: join(dir, 'none.sqlite'), outDir: join(dir, 'x') })).rejects.toThrow(/no run store at/);
    await expect(exportRun({ storePath: path, outDir: join(dir, 'x'), runId: 'nope' })).rejects.toThrow(`no run nope in the store (runs: ${runId})`);
    await expect(exportRun({ storePath: path, outDir: join(dir, 'x'), round: 1 })).rejects.toThrow(/has no checkpoint of round 1; stored: 2, 3/);
  });
});
