/**
 * One training thread of the simulator. It holds ONE model and the shared training set; each task
 * names a client's examples (indices) and the round's global weights, so any client's round can
 * run here: set the weights, train locally (or evaluate), send back the delta (or the metrics).
 *
 * tfjs runs on wasm here (SIMD; tfjs uses no threads in Node), else cpu, with the Conv2D filter
 * gradient that makes convolutions trainable on both (DESIGN.md, "tfjs backends in Node").
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LocalDataset } from '../../core/data/dataset.js';
import { splitHeldOut } from '../../core/data/held-out.js';
import { InMemoryDataset } from '../../core/data/in-memory.js';
import { buildModel } from '../../core/models/builtin.js';
import { CohortError } from '../../core/protocol/errors.js';
import { registerConv2DFilterGradient } from '../../core/train/conv2d-filter-grad.js';
import { evaluateWeights } from '../../core/train/federated-evaluate.js';
import { trainLocally } from '../../core/train/local-train.js';
import { getFlatWeights, setFlatWeights } from '../../core/train/weights.js';
import { useCoordinatorBackend } from '../evaluation/tf-backend.js';
import type { ThreadReply, ThreadRequest } from './thread-pool.js';
import type { TrainingOutcome, TrainingTask, TrainingThreadInfo, TrainingThreadInit } from './training-tasks.js';

const port = parentPort;
if (!port) throw new Error('train-thread.ts runs only as a worker_thread');
const init = (workerData as { init: TrainingThreadInit }).init;

const backend = await useCoordinatorBackend();
registerConv2DFilterGradient();
const model = buildModel(init.model);
const pixels = new Uint8Array(init.pixels);
const labels = new Uint8Array(init.labels);
/** The labelflip adversary's labels, made on first use: every label moved to the next class. */
let flipped: Uint8Array | undefined;
let current: { id: number; controller: AbortController } | undefined;

/** A client's examples, without its held-out share when there is one (`part` picks the side). */
function clientData(indices: Int32Array, part: 'train' | 'held-out', flip = false): LocalDataset {
  if (flip) flipped ??= labels.map((y) => (y + 1) % init.numClasses);
  const all = new InMemoryDataset({ pixels, labels: flip ? flipped! : labels, indices, inputShape: init.inputShape, numClasses: init.numClasses });
  if (init.heldOutFraction === undefined) return all;
  const split = splitHeldOut(all, init.heldOutFraction);
  return part === 'train' ? split.train : split.heldOut;
}

async function run(task: TrainingTask, signal: AbortSignal): Promise<TrainingOutcome> {
  if (task.kind === 'evaluate') {
    const heldOut = clientData(task.indices, 'held-out');
    return { kind: 'evaluate', ...(await evaluateWeights(model, heldOut, task.weights)) };
  }
  setFlatWeights(model, task.weights);
  const result = await trainLocally(model, clientData(task.indices, 'train', task.flipLabels === true), task.config, { signal });
  const local = await getFlatWeights(model);
  for (let i = 0; i < local.length; i++) local[i] = local[i]! - task.weights[i]!;
  return { kind: 'train', delta: local, ...result };
}

port.on('message', (request: ThreadRequest<TrainingTask>) => {
  if (request.type === 'abort') {
    if (current?.id === request.id) current.controller.abort(new CohortError('E_INTERNAL', 'task aborted'));
    return;
  }
  const controller = new AbortController();
  current = { id: request.id, controller };
  run(request.task, controller.signal).then(
    (result) => {
      const reply: ThreadReply<TrainingOutcome> = { type: 'done', id: request.id, result };
      port.postMessage(reply, result.kind === 'train' ? [result.delta.buffer as ArrayBuffer] : []);
    },
    (error: unknown) => {
      const reply: ThreadReply<TrainingOutcome> = {
        type: 'failed',
        id: request.id,
        code: error instanceof CohortError ? error.code : undefined,
        message: error instanceof Error ? error.message : String(error),
      };
      port.postMessage(reply);
    },
  ).finally(() => {
    if (current?.id === request.id) current = undefined;
  });
});

const info: TrainingThreadInfo = { backend };
port.postMessage({ type: 'ready', info } satisfies ThreadReply<TrainingOutcome>);
