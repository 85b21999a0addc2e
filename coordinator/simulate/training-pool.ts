/**
 * The simulator's training threads, typed: `train` and `evaluate` a client's round on whichever
 * thread is free. Threads default to os.availableParallelism(): training is the simulation's
 * bottleneck, and the main thread (coordinator, SecAgg+) mostly waits on it.
 */
import { availableParallelism } from 'node:os';
import type { ModelSpec, TrainConfig } from '../../core/protocol/messages.js';
import type { SharedTrainingSet } from './sim-data.js';
import { ThreadPool } from './thread-pool.js';
import type { EvaluateOutcome, TrainingOutcome, TrainingTask, TrainingThreadInfo, TrainingThreadInit, TrainOutcome } from './training-tasks.js';

export interface TrainingPoolOptions {
  threads?: number | undefined;
  model: ModelSpec;
  data: SharedTrainingSet;
  heldOutFraction?: number | undefined;
}

export class TrainingPool {
  private constructor(private readonly pool: ThreadPool<TrainingTask, TrainingOutcome>) {}

  static async start(options: TrainingPoolOptions): Promise<TrainingPool> {
    const init: TrainingThreadInit = {
      model: options.model,
      pixels: options.data.pixels,
      labels: options.data.labels,
      inputShape: options.data.inputShape,
      numClasses: options.data.numClasses,
      heldOutFraction: options.heldOutFraction,
    };
    const pool = await ThreadPool.start<TrainingTask, TrainingOutcome>({
      size: options.threads ?? availableParallelism(),
      module: new URL('./train-thread.ts', import.meta.url),
      init,
    });
    return new TrainingPool(pool);
  }

  get threads(): number {
    return this.pool.size;
  }

  /** The tfjs backend the threads run on. */
  get backend(): string {
    return (this.pool.infos[0] as TrainingThreadInfo | undefined)?.backend ?? 'unknown';
  }

  async train(weights: Float32Array, indices: Int32Array, config: TrainConfig, signal?: AbortSignal, options: { flipLabels?: boolean } = {}): Promise<Omit<TrainOutcome, 'kind'>> {
    const { kind: _kind, ...outcome } = (await this.pool.run({ kind: 'train', weights, indices, config, flipLabels: options.flipLabels }, { signal })) as TrainOutcome;
    return outcome;
  }

  async evaluate(weights: Float32Array, indices: Int32Array, signal?: AbortSignal): Promise<Omit<EvaluateOutcome, 'kind'>> {
    const { kind: _kind, ...outcome } = (await this.pool.run({ kind: 'evaluate', weights, indices }, { signal })) as EvaluateOutcome;
    return outcome;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
