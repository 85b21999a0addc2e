/**
 * The WorkerClient hooks of a browser tab: `prepare` loads the data, picks the backend and builds
 * the model; `train` runs one round of local training (core/train) and returns the delta. The same
 * code as the Node worker's hooks, plus what the page shows while it happens.
 */
import * as tf from '@tensorflow/tfjs';
import type { LocalDataset } from '../../../core/data/dataset.js';
import { buildModel } from '../../../core/models/builtin.js';
import type { BackendReport, TrainMessage } from '../../../core/protocol/messages.js';
import { trainLocally } from '../../../core/train/local-train.js';
import { getFlatWeights, setFlatWeights } from '../../../core/train/weights.js';
import type { RunInfo, TrainResult, WorkerHooks } from '../../../core/worker/client.js';
import type { StartRequest, WorkerToPage } from '../bridge.js';
import { selectBackend } from './backends.js';
import { loadData } from './data.js';

/** Progress messages at most this often: the page needs a live count, not one per step. */
const PROGRESS_EVERY_MS = 250;

export class BrowserTrainer implements WorkerHooks {
  private model: tf.LayersModel | undefined;
  private data: LocalDataset | undefined;
  /**
   * The message of the last round stopped by an abort (connection lost, or a newer round): the
   * session reports it as an error, but it is an ordinary event, so main.ts logs it quietly.
   */
  interrupted: string | undefined;

  constructor(
    private readonly start: StartRequest,
    private readonly post: (message: WorkerToPage) => void,
  ) {}

  async prepare(run: RunInfo): Promise<{ backend: BackendReport; examples: number }> {
    this.post({ type: 'progress', stage: 'loading-data' });
    const data = await loadData(this.start.data);
    this.data = data;
    this.post({ type: 'data', source: this.start.data.kind, examples: data.size });

    this.post({ type: 'progress', stage: 'choosing-backend' });
    // One real batch of this tab's data: the benchmark measures exactly what training will run.
    const first = data.batches(32, 1)[Symbol.iterator]().next();
    if (first.done) throw new Error('the local dataset is empty');
    const choice = await selectBackend({
      model: run.model,
      batch: first.value,
      forced: this.start.backend,
      onStatus: (line) => this.post({ type: 'log', level: 'info', message: line }),
    });
    this.post({ type: 'backend', choice });
    this.model?.dispose();
    this.model = buildModel(run.model);
    this.post({ type: 'progress', stage: 'waiting', trainedOn: tf.getBackend() });
    const { measured: _m, skipped: _s, forced: _f, ...report } = choice;
    return { backend: report, examples: data.size };
  }

  async train(message: TrainMessage, signal: AbortSignal): Promise<TrainResult> {
    const model = this.model;
    const data = this.data;
    if (!model || !data) throw new Error('train before prepare');
    const cap = this.start.maxLocalSteps;
    const config = cap === undefined ? message.config : { ...message.config, maxLocalSteps: Math.min(cap, message.config.maxLocalSteps ?? cap) };
    setFlatWeights(model, message.weights);
    let lastPost = 0;
    const trainedOn = tf.getBackend();
    this.post({ type: 'progress', stage: 'training', round: message.round, step: 0, trainedOn });
    let result: Awaited<ReturnType<typeof trainLocally>>;
    try {
      result = await trainLocally(model, data, config, {
        signal,
        onStep: (step) => {
          const now = performance.now();
          if (now - lastPost < PROGRESS_EVERY_MS) return;
          lastPost = now;
          this.post({ type: 'progress', stage: 'training', round: message.round, step, trainedOn: tf.getBackend() });
        },
      });
    } catch (error) {
      if (!signal.aborted) throw error;
      this.interrupted = `round ${message.round}: training stopped (connection lost or round superseded)`;
      this.post({ type: 'progress', stage: 'waiting', round: message.round });
      throw new Error(this.interrupted);
    }
    const local = await getFlatWeights(model);
    const delta = new Float32Array(local.length);
    for (let i = 0; i < local.length; i++) delta[i] = local[i]! - message.weights[i]!;
    this.post({ type: 'trained', round: message.round, examples: result.examples, steps: result.steps, trainedOn: tf.getBackend(), trainMs: result.trainMs });
    return { delta, examples: result.examples, steps: result.steps, loss: result.loss, accuracy: result.accuracy, trainMs: result.trainMs };
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
    this.data = undefined;
  }
}
