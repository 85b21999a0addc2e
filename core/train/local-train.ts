/**
 * A worker's local training for one round (the client side of FedAvg and FedProx): localEpochs
 * passes over the local data, capped at maxLocalSteps, with a fresh optimizer every call so no
 * optimizer state leaks between rounds.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LocalDataset } from '../data/dataset.js';
import { deriveSeed } from '../data/random.js';
import type { TrainConfig } from '../protocol/messages.js';
import { checkDataFitsModel, yieldToEventLoop } from './batch-ops.js';
import { createTrainStep } from './step.js';

export interface TrainOptions {
  /** Called after every step with its 1-based number and the batch's mean loss. */
  onStep?: (step: number, loss: number) => void;
  /** Aborting stops training before the next step and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Awaited after every step with how long it took (ms): e.g. a test-only slowdown (`--test-slowdown`). */
  afterStep?: (stepMs: number) => Promise<void> | void;
}

export interface TrainResult {
  /** Examples actually processed (fewer than epochs × size when capped by maxLocalSteps). */
  examples: number;
  steps: number;
  /** Mean cross-entropy over the processed examples (the proximal term excluded). */
  loss: number;
  /** Training accuracy over the processed examples, measured before each step's update. */
  accuracy: number;
  trainMs: number;
}

/** Yield at least this often, so WebSocket pings and deadlines keep being served. */
const YIELD_EVERY_MS = 25;

export async function trainLocally(model: tf.LayersModel, data: LocalDataset, config: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const started = performance.now();
  checkDataFitsModel(model, data);
  opts.signal?.throwIfAborted();
  const maxSteps = config.maxLocalSteps ?? Number.POSITIVE_INFINITY;
  const step = createTrainStep(model, { optimizer: config.optimizer, lr: config.lr, proximalMu: config.proximalMu });
  let steps = 0;
  let examples = 0;
  let lossSum = 0;
  let correctSum = 0;
  let lastYield = performance.now();
  try {
    for (let epoch = 0; epoch < config.localEpochs && steps < maxSteps; epoch++) {
      // A distinct order per epoch, reproducible from the round's seed.
      for (const batch of data.batches(config.batchSize, deriveSeed(config.seed, epoch))) {
        if (steps >= maxSteps) break;
        opts.signal?.throwIfAborted();
        const stepStarted = performance.now();
        const out = step.run(batch);
        let loss: number;
        let correct: number;
        try {
          const [l, c] = await Promise.all([out.loss.data(), out.correct.data()]);
          loss = l[0] as number;
          correct = c[0] as number;
        } finally {
          out.loss.dispose();
          out.correct.dispose();
        }
        steps++;
        examples += batch.size;
        lossSum += loss * batch.size;
        correctSum += correct;
        opts.onStep?.(steps, loss);
        if (opts.afterStep) {
          await opts.afterStep(performance.now() - stepStarted);
          lastYield = performance.now();
        }
        if (performance.now() - lastYield >= YIELD_EVERY_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
    }
  } finally {
    step.dispose();
  }
  return {
    examples,
    steps,
    loss: examples > 0 ? lossSum / examples : 0,
    accuracy: examples > 0 ? correctSum / examples : 0,
    trainMs: performance.now() - started,
  };
}
