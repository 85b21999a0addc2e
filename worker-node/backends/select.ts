/**
 * Backend selection for the Node worker. Candidates, in order: native TensorFlow with CUDA
 * (tfjs-node-gpu), native TensorFlow on CPU (tfjs-node), WebGPU through Dawn, wasm, plain-JS cpu.
 * A candidate that fails to load, or cannot run the model's training step, is skipped with its
 * reason; among the rest, a micro-benchmark of the real training step picks the fastest. The
 * choice is left active in tfjs and returned with a one-line reason for the coordinator and logs.
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { BackendReport, ModelSpec } from '../../core/protocol/messages.js';
import { registerConv2DFilterGradient } from '../../core/train/conv2d-filter-grad.js';
import { benchmarkTrainingStep, type BenchmarkResult } from './benchmark.js';
import { activate, AUTO_ORDER, firstLine, loadCandidate, type BackendName, type BackendRequest, type LoadedBackend } from './candidates.js';

export type { BackendName, BackendRequest } from './candidates.js';

export interface SelectOptions {
  requested: BackendRequest;
  model: ModelSpec;
  log?: (line: string) => void;
  /** Measure every candidate at full batch, even those a batch-1 step shows to be slower (`cohort doctor`). */
  measureAll?: boolean;
  /** Benchmark tuning (tests and benchmarks shorten or lengthen it). */
  benchmark?: { budgetMs?: number; maxSteps?: number; batchSize?: number };
}

export interface CandidateOutcome {
  name: BackendName;
  /** Why it was not usable; absent for measured candidates. */
  skipped?: string;
  /** Measured steps per second (an upper bound when `estimate` is set). */
  stepsPerSecond?: number;
  estimate?: boolean;
}

export interface BackendSelection extends BackendReport {
  /** The chosen candidate, as users name it (same as `backend`). */
  name: BackendName;
  /** The chosen backend's tfjs name (`tf.getBackend()`): 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  tfjsBackend: string;
  candidates: CandidateOutcome[];
}

interface Measured {
  backend: LoadedBackend;
  result: BenchmarkResult;
}

function formatRate(stepsPerSecond: number): string {
  if (stepsPerSecond >= 10) return stepsPerSecond.toFixed(0);
  if (stepsPerSecond >= 1) return stepsPerSecond.toFixed(1);
  return stepsPerSecond.toPrecision(2);
}

/** Loads, activates and benchmarks one candidate; a string is the reason it is unusable. */
async function tryCandidate(name: BackendName, options: SelectOptions, beatMs: number | undefined): Promise<Measured | string> {
  const loaded = await loadCandidate(name);
  if (!loaded.ok) return loaded.reason;
  const activated = await activate(loaded.backend);
  if (!activated.ok) return activated.reason;
  try {
    const result = await benchmarkTrainingStep(options.model, { ...options.benchmark, gpu: loaded.backend.gpu, beatMs });
    return { backend: loaded.backend, result };
  } catch (err) {
    // A bad model is not the backend's fault: report it as such instead of skipping everything.
    if (err instanceof CohortError && err.code === 'E_MODEL_INVALID') throw err;
    return `cannot train this model (${firstLine(err)})`;
  }
}

function describeOthers(outcomes: CandidateOutcome[], chosen: BackendName): string {
  const measured = outcomes.filter((o) => o.stepsPerSecond !== undefined);
  const parts: string[] = [];
  if (measured.length > 1) {
    const list = measured.map((o) => `${o.name} ${o.estimate ? '≤' : ''}${formatRate(o.stepsPerSecond as number)}`).join(', ');
    parts.push(`fastest of ${list}`);
  }
  for (const o of outcomes) if (o.skipped !== undefined && o.name !== chosen) parts.push(`${o.name}: ${o.skipped}`);
  return parts.join('; ');
}

/**
 * Picks (and activates) the tfjs backend to train `model` with. `requested` other than 'auto'
 * forces that backend: E_BACKEND_UNAVAILABLE if it cannot load or cannot train the model.
 */
export async function selectBackend(options: SelectOptions): Promise<BackendSelection> {
  // Harmless for dense models; for conv models it is what lets wasm train at all and cpu 13× faster.
  registerConv2DFilterGradient();
  const names: readonly BackendName[] = options.requested === 'auto' ? AUTO_ORDER : [options.requested];
  if (!names.every((n) => AUTO_ORDER.includes(n))) {
    throw new CohortError('E_BACKEND_UNAVAILABLE', `unknown backend ${JSON.stringify(options.requested)}; expected auto or one of ${AUTO_ORDER.join(', ')}`);
  }
  const outcomes: CandidateOutcome[] = [];
  const measured: Measured[] = [];
  let best: Measured | undefined;
  for (const name of names) {
    const beatMs = best && options.measureAll !== true ? 1000 / best.result.stepsPerSecond : undefined;
    const outcome = await tryCandidate(name, options, beatMs);
    if (typeof outcome === 'string') {
      outcomes.push({ name, skipped: outcome });
      options.log?.(`backend ${name}: skipped, ${outcome}`);
      continue;
    }
    const { result } = outcome;
    if (result.skipped) {
      const why = `slower (a batch-1 step alone took ${Math.round(result.probeMs)} ms)`;
      outcomes.push({ name, stepsPerSecond: result.stepsPerSecond, estimate: true });
      options.log?.(`backend ${name}: not measured, ${why}`);
      continue;
    }
    outcomes.push({ name, stepsPerSecond: result.stepsPerSecond });
    options.log?.(`backend ${name}: ${formatRate(result.stepsPerSecond)} steps/s${outcome.backend.adapter ? ` on ${outcome.backend.adapter}` : ''}`);
    measured.push(outcome);
    if (!best || result.stepsPerSecond > best.result.stepsPerSecond) best = outcome;
  }

  if (!best) {
    const reasons = outcomes.map((o) => `${o.name}: ${o.skipped ?? 'unusable'}`).join('; ');
    const what = options.requested === 'auto' ? 'no tfjs backend can train this model' : `backend ${options.requested} is unavailable`;
    throw new CohortError('E_BACKEND_UNAVAILABLE', `${what} (${reasons})`);
  }
  // The benchmark loop switched backends; switch back to the winner, and check that it took.
  const final = await activate(best.backend);
  if (!final.ok) throw new CohortError('E_BACKEND_UNAVAILABLE', `${best.backend.name}: ${final.reason}`);

  const rate = best.result.stepsPerSecond;
  const head = `${best.backend.name}: ${formatRate(rate)} steps/s`;
  const tail = options.requested === 'auto' ? describeOthers(outcomes, best.backend.name) : 'requested explicitly';
  const reason = tail ? `${head} (${tail})` : head;
  options.log?.(`backend: ${reason}`);
  const selection: BackendSelection = {
    backend: best.backend.name,
    name: best.backend.name,
    tfjsBackend: best.backend.tfjsBackend,
    reason: reason.slice(0, 2_000),
    stepsPerSecond: rate,
    candidates: outcomes,
  };
  if (best.backend.adapter !== undefined) selection.adapter = best.backend.adapter.slice(0, 500);
  return selection;
}
