/**
 * The micro-benchmark behind backend selection: the real training step (core/train/step.ts) of the
 * real model on random data, timed on whatever backend tfjs is set to.
 */
import type { Batch } from '../../core/data/dataset.js';
import { createRandom } from '../../core/data/random.js';
import { buildModel } from '../../core/models/builtin.js';
import { modelInputShape, modelNumClasses } from '../../core/models/layers-json.js';
import type { ModelSpec } from '../../core/protocol/messages.js';
import { createTrainStep, type TrainStep } from '../../core/train/step.js';

export interface BenchmarkOptions {
  batchSize?: number;
  /** Timed steps after the warm-up, at most. */
  maxSteps?: number;
  /** Stop timing once this much time has been spent on timed steps. */
  budgetMs?: number;
  /** GPU backends compile on first use: their warm-up never counts as a measurement. */
  gpu?: boolean;
  /**
   * Full-batch step time of the best backend so far. A CPU-like backend whose batch-1 probe alone
   * is slow and already takes half that long is not measured further: it will not win, and one
   * full step of it could take many seconds (the McMahan CNN on plain-JS cpu: about 9 s).
   */
  beatMs?: number;
}

export interface BenchmarkResult {
  /** Measured rate; when `skipped`, an upper bound (1000 / the batch-1 probe's ms). */
  stepsPerSecond: number;
  /** Timed full-batch steps (0 when the warm-up step is the measurement, or when skipped). */
  steps: number;
  /** Duration of the batch-1 probe step. */
  probeMs: number;
  /** Not measured at full batch: see `beatMs`. */
  skipped: boolean;
}

/** Probes faster than this are cheap enough to always measure in full. */
const SLOW_PROBE_MS = 250;

function randomBatch(size: number, inputShape: number[], numClasses: number, seed: number): Batch {
  const rng = createRandom(seed);
  const features = inputShape.reduce((a, b) => a * b, 1);
  const xs = new Float32Array(size * features);
  for (let i = 0; i < xs.length; i++) xs[i] = rng();
  const ys = new Int32Array(size);
  for (let i = 0; i < size; i++) ys[i] = Math.floor(rng() * numClasses);
  return { xs, ys, size };
}

/** Runs one step and waits for its result, so asynchronous (GPU) backends are timed fully. */
async function timedStep(step: TrainStep, batch: Batch): Promise<number> {
  const start = performance.now();
  const out = step.run(batch);
  try {
    await out.loss.data();
  } finally {
    out.loss.dispose();
    out.correct.dispose();
  }
  return performance.now() - start;
}

/** Measures training steps per second of `spec`'s model on the current tfjs backend. */
export async function benchmarkTrainingStep(spec: ModelSpec, options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const batchSize = options.batchSize ?? 32;
  const maxSteps = options.maxSteps ?? 20;
  const budgetMs = options.budgetMs ?? 500;
  const model = buildModel(spec);
  const step = createTrainStep(model, { optimizer: 'adam', lr: 1e-3 });
  try {
    const inputShape = modelInputShape(model);
    const numClasses = modelNumClasses(model);
    // Batch-1 probe: finds missing kernels cheaply (it throws) and bounds the cost of the rest.
    const probeMs = await timedStep(step, randomBatch(1, inputShape, numClasses, 1));
    if (!options.gpu && options.beatMs !== undefined && probeMs >= SLOW_PROBE_MS && probeMs >= options.beatMs / 2) {
      return { stepsPerSecond: 1000 / probeMs, steps: 0, probeMs, skipped: true };
    }
    const batch = randomBatch(batchSize, inputShape, numClasses, 2);
    const warmupMs = await timedStep(step, batch);
    // A warm-up over budget is the measurement: CPU-like backends have nothing to compile.
    if (!options.gpu && warmupMs >= budgetMs) return { stepsPerSecond: 1000 / warmupMs, steps: 0, probeMs, skipped: false };
    let spent = 0;
    let steps = 0;
    while (steps < maxSteps && (steps === 0 || spent < budgetMs)) {
      spent += await timedStep(step, batch);
      steps++;
    }
    return { stepsPerSecond: (1000 * steps) / spent, steps, probeMs, skipped: false };
  } finally {
    step.dispose();
    model.dispose();
  }
}
