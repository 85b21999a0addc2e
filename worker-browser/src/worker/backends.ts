/**
 * Backend selection in the browser (DESIGN.md, "Backend selection"): candidates webgpu, webgl,
 * wasm and cpu; a candidate that fails to initialise or cannot run the model's training step is
 * skipped; among the rest, a short micro-benchmark of the real training step (core/train/step.ts,
 * the run's model, a real batch) picks the fastest. Never tf.ready()'s default: on a GPU-less
 * machine that is WebGPU on SwiftShader, 20× slower than wasm for an MLP.
 *
 * wasm has no Conv2DBackpropFilter kernel; registerConv2DFilterGradient() (registered here, before
 * any model is built) computes that gradient with a forward conv2d, so conv models train on wasm.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Batch } from '../../../core/data/dataset.js';
import { buildModel } from '../../../core/models/builtin.js';
import { CohortError } from '../../../core/protocol/errors.js';
import type { ModelSpec } from '../../../core/protocol/messages.js';
import { registerConv2DFilterGradient } from '../../../core/train/conv2d-filter-grad.js';
import { createTrainStep } from '../../../core/train/step.js';
import { BROWSER_BACKENDS, type AdapterInfo, type BackendChoice, type BrowserBackend } from '../bridge.js';
import { describeAdapter, webgpuAdapterInfo, webglRenderer } from '../adapter.js';

export interface MeasureOptions {
  /** Timed steps at most, after one untimed warm-up step (shader compilation, wasm start-up). */
  maxSteps: number;
  /** Stop timing after this long, once at least one step is timed. */
  budgetMs: number;
  /** Stop after the first timed step when it is this much slower than the best so far. */
  giveUpAboveMs?: number | undefined;
}

export const SELECTION_MEASURE: MeasureOptions = { maxSteps: 8, budgetMs: 800 };
/** A forced backend is measured only to report its speed. */
export const FORCED_MEASURE: MeasureOptions = { maxSteps: 2, budgetMs: 400 };

let wasmPathsSet = false;

/** Once per Web Worker, before any backend initialises. */
export function prepareBackends(wasmPaths: string): void {
  registerConv2DFilterGradient();
  if (!wasmPathsSet) {
    setWasmPaths(wasmPaths);
    wasmPathsSet = true;
  }
}

/** Makes `backend` current; throws with the reason when it cannot be used here. */
export async function activate(backend: BrowserBackend, adapter?: { adapter: AdapterInfo | null; why?: string }): Promise<void> {
  if (backend === 'webgpu') {
    const info = adapter ?? (await webgpuAdapterInfo());
    if (!info.adapter) throw new CohortError('E_BACKEND_UNAVAILABLE', info.why ?? 'no WebGPU adapter');
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(backend);
  } catch (error) {
    throw new CohortError('E_BACKEND_UNAVAILABLE', `${backend} failed to initialise: ${error instanceof Error ? error.message : String(error)}`);
  }
  // A failed setBackend returns false and leaves tfjs where it was: never train on a silent fallback.
  if (!ok || tf.getBackend() !== backend) throw new CohortError('E_BACKEND_UNAVAILABLE', `${backend} failed to initialise in this browser`);
}

/** Steps per second of the real training step of `spec` on the current backend. */
export async function measureTrainStep(spec: ModelSpec, batch: Batch, options: MeasureOptions): Promise<number> {
  const model = buildModel(spec);
  const step = createTrainStep(model, { optimizer: 'adam', lr: 0.001 });
  const once = async (): Promise<void> => {
    const out = step.run(batch);
    try {
      await out.loss.data(); // waits for the GPU, not just for the commands to be queued
    } finally {
      out.loss.dispose();
      out.correct.dispose();
    }
  };
  try {
    await once();
    let steps = 0;
    const started = performance.now();
    let elapsed = 0;
    while (steps < options.maxSteps && (steps === 0 || elapsed < options.budgetMs)) {
      await once();
      steps++;
      elapsed = performance.now() - started;
      if (steps === 1 && options.giveUpAboveMs !== undefined && elapsed > options.giveUpAboveMs) break;
    }
    return steps / (elapsed / 1000);
  } finally {
    step.dispose();
    model.dispose();
  }
}

/** A batch of the right shape with random pixels and labels, when there is no data yet. */
export function syntheticBatch(inputShape: readonly number[], numClasses: number, size = 32): Batch {
  const features = inputShape.reduce((a, b) => a * b, 1);
  const xs = new Float32Array(size * features);
  for (let i = 0; i < xs.length; i++) xs[i] = Math.random();
  const ys = new Int32Array(size);
  for (let i = 0; i < size; i++) ys[i] = Math.floor(Math.random() * numClasses);
  return { xs, ys, size };
}

export interface SelectOptions {
  model: ModelSpec;
  batch: Batch;
  forced?: BrowserBackend | undefined;
  onStatus?: (line: string) => void;
}

/** Picks (or, with `forced`, checks) the backend, leaves it current, and says why. */
export async function selectBackend(options: SelectOptions): Promise<BackendChoice> {
  const gpu = await webgpuAdapterInfo();
  const candidates = options.forced ? [options.forced] : [...BROWSER_BACKENDS];
  const measured: BackendChoice['measured'] = [];
  const skipped: BackendChoice['skipped'] = [];
  for (const backend of candidates) {
    options.onStatus?.(`measuring ${backend}`);
    try {
      await activate(backend, gpu);
      const best = measured.reduce((b, m) => Math.max(b, m.stepsPerSecond), 0);
      const stepsPerSecond = await measureTrainStep(options.model, options.batch, {
        ...(options.forced ? FORCED_MEASURE : SELECTION_MEASURE),
        // A candidate 3× slower than the best after one step will not win: don't spend more on it.
        giveUpAboveMs: best > 0 ? 3_000 / best : undefined,
      });
      measured.push({ backend, stepsPerSecond });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      if (options.forced) throw new CohortError('E_BACKEND_UNAVAILABLE', `backend ${backend} was asked for (?backend=${backend}) but cannot train here: ${why}`);
      skipped.push({ backend, why });
    }
  }
  const ranked = [...measured].sort((a, b) => b.stepsPerSecond - a.stepsPerSecond);
  const winner = ranked[0];
  if (!winner) throw new CohortError('E_BACKEND_UNAVAILABLE', `no tfjs backend can train this model here: ${skipped.map((s) => `${s.backend}: ${s.why}`).join('; ')}`);
  await activate(winner.backend, gpu);

  const rate = (m: { backend: string; stepsPerSecond: number }): string => `${m.backend} ${m.stepsPerSecond.toFixed(1)} steps/s`;
  const what = `${options.model.kind === 'builtin' ? options.model.name : 'custom model'} training step, batch ${options.batch.size}`;
  const reason = options.forced
    ? `forced by ?backend=${options.forced}; measured ${rate(winner)} (${what})`
    : `fastest measured: ${ranked.map(rate).join(' > ')} (${what})${skipped.length ? `; skipped ${skipped.map((s) => `${s.backend} (${s.why})`).join(', ')}` : ''}`;
  return {
    backend: winner.backend,
    reason: reason.slice(0, 2_000),
    adapter: adapterString(winner.backend, gpu.adapter),
    stepsPerSecond: winner.stepsPerSecond,
    measured,
    skipped,
    forced: options.forced !== undefined,
  };
}

function adapterString(backend: BrowserBackend, gpu: AdapterInfo | null): string | undefined {
  if (backend === 'webgpu' && gpu) return describeAdapter(gpu).slice(0, 500);
  if (backend === 'webgl') return webglRenderer()?.slice(0, 500);
  if (backend === 'wasm') return `WebAssembly${globalThis.crossOriginIsolated ? ', threads' : ', one thread (page not cross-origin isolated)'}`;
  return undefined;
}
