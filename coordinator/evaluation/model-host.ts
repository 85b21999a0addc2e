/**
 * The coordinator's copy of the model: it provides the initial global weights and evaluates every
 * new global model on the coordinator's held-out set (MNIST's 10k test images in the demo).
 * The coordinator never sees a worker's examples; the only training it does is contribution
 * scoring's reference update, on a sample of its own held-out set (referenceUpdate).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { buildModel } from '../../core/models/builtin.js';
import type { ModelSpec } from '../../core/protocol/messages.js';
import { evaluateModel } from '../../core/train/evaluate.js';
import { InMemoryDataset } from '../../core/data/in-memory.js';
import type { TrainConfig } from '../../core/protocol/messages.js';
import { trainLocally } from '../../core/train/local-train.js';
import { lossGradient } from '../../core/train/loss-gradient.js';
import { getFlatWeights, setFlatWeights } from '../../core/train/weights.js';
import type { LocalDataset } from '../../core/data/dataset.js';
import type { Evaluator } from '../engine/run-engine.js';
import { useCoordinatorBackend } from './tf-backend.js';

export class ModelHost implements Evaluator {
  private constructor(
    private readonly model: tfTypes.LayersModel,
    private readonly testSet: LocalDataset | undefined,
    readonly backend: string,
  ) {}

  static async create(spec: ModelSpec, testSet: LocalDataset | undefined): Promise<ModelHost> {
    const backend = await useCoordinatorBackend();
    return new ModelHost(buildModel(spec), testSet, backend);
  }

  get hasTestSet(): boolean {
    return this.testSet !== undefined;
  }

  initialWeights(): Promise<Float32Array> {
    return getFlatWeights(this.model);
  }

  async evaluate(weights: Float32Array): Promise<{ accuracy: number; loss: number }> {
    if (!this.testSet) throw new Error('no held-out set');
    setFlatWeights(this.model, weights);
    const { accuracy, loss } = await evaluateModel(this.model, this.testSet, 1000);
    return { accuracy, loss };
  }

  /** ∇ of the held-out mean loss at `weights` (contribution scoring's first-order marginals). */
  async lossGradient(weights: Float32Array): Promise<Float32Array> {
    if (!this.testSet) throw new Error('no held-out set');
    setFlatWeights(this.model, weights);
    return (await lossGradient(this.model, this.testSet, 1000)).gradient;
  }

  /**
   * The update an honest worker holding `examples` of the held-out examples (drawn by `seed`)
   * would send: `config`'s local training from `weights`, as a delta. Contribution scoring's
   * reference direction (coordinator/contribution/reference-score.ts).
   */
  async referenceUpdate(weights: Float32Array, config: TrainConfig, examples: number): Promise<Float32Array> {
    if (!this.testSet) throw new Error('no held-out set');
    const [sample] = this.testSet.batches(Math.min(examples, this.testSet.size), config.seed);
    if (!sample) throw new Error('the held-out set is empty');
    const data = new InMemoryDataset({ pixels: sample.xs, labels: sample.ys, inputShape: this.testSet.inputShape, numClasses: this.testSet.numClasses });
    setFlatWeights(this.model, weights);
    await trainLocally(this.model, data, config);
    const trained = await getFlatWeights(this.model);
    return trained.map((w, i) => w - weights[i]!);
  }

  dispose(): void {
    this.model.dispose();
  }
}
