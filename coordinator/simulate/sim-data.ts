/**
 * The simulated clients' data: MNIST's 60k training images, loaded ONCE into shared memory that
 * every training thread reads, and each client's part of it as a list of indices (the run's
 * partition over N clients, as `cohort worker --shard i/N` would compute it). A thousand clients
 * cost 60k indices in all, not a thousand copies of their data.
 */
import { splitHeldOut } from '../../core/data/held-out.js';
import { InMemoryDataset } from '../../core/data/in-memory.js';
import { partitionIndices } from '../../core/data/partition.js';
import type { PartitionSpec } from '../../core/protocol/messages.js';
import { MNIST_CLASSES } from '../../core/data/mnist.js';
import { readMnistSync } from '../data/mnist.js';

export interface SharedTrainingSet {
  pixels: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  inputShape: number[];
  numClasses: number;
  /** Views over the shared buffers, for this thread. */
  pixelView: Uint8Array;
  labelView: Uint8Array;
}

function shared(bytes: Uint8Array): { buffer: SharedArrayBuffer; view: Uint8Array } {
  const buffer = new SharedArrayBuffer(bytes.byteLength);
  const view = new Uint8Array(buffer);
  view.set(bytes);
  return { buffer, view };
}

export function loadSharedMnist(): SharedTrainingSet {
  const { images, labels } = readMnistSync('train');
  const p = shared(images.pixels);
  const l = shared(labels);
  return { pixels: p.buffer, labels: l.buffer, inputShape: [images.rows, images.cols, 1], numClasses: MNIST_CLASSES, pixelView: p.view, labelView: l.view };
}

export interface SimulatedShard {
  indices: Int32Array;
  /** Examples the client trains on (its shard, less its held-out share under federated evaluation). */
  trainExamples: number;
}

/** Every client's shard of `data` under `spec`, and how many examples each will train on. */
export function clientShards(data: SharedTrainingSet, clients: number, spec: PartitionSpec, heldOutFraction?: number): SimulatedShard[] {
  return partitionIndices(data.labelView, clients, spec).map((part) => {
    const indices = Int32Array.from(part);
    if (heldOutFraction === undefined) return { indices, trainExamples: indices.length };
    const dataset = new InMemoryDataset({ pixels: data.pixelView, labels: data.labelView, indices, inputShape: data.inputShape, numClasses: data.numClasses });
    return { indices, trainExamples: splitHeldOut(dataset, heldOutFraction).train.size };
  });
}
