/**
 * A LocalDataset over examples held in memory: pixel bytes (scaled to [0, 1] per batch) or floats
 * already in [0, 1], plus integer labels. Used for MNIST shards, IDX and PNG directories, and tests.
 */
import { CohortError } from '../protocol/errors.js';
import type { Batch, LocalDataset } from './dataset.js';
import { createRandom, permutation } from './random.js';

export interface InMemoryDatasetOptions {
  /** All examples, row-major, `product(inputShape)` values each. Bytes are divided by 255. */
  pixels: Uint8Array | Float32Array;
  /** One integer label in [0, numClasses) per example. */
  labels: ArrayLike<number>;
  /** The examples of this dataset (positions into pixels/labels); all of them when omitted. */
  indices?: ArrayLike<number>;
  inputShape: readonly number[];
  numClasses: number;
}

function invalid(message: string): never {
  throw new CohortError('E_DATA_INVALID', message);
}

function featureSizeOf(inputShape: readonly number[]): number {
  if (inputShape.length === 0) invalid('inputShape is empty');
  let n = 1;
  for (const d of inputShape) {
    if (!Number.isInteger(d) || d < 1) invalid(`inputShape [${inputShape.join(', ')}] has a non-positive dimension`);
    n *= d;
  }
  return n;
}

export class InMemoryDataset implements LocalDataset {
  readonly size: number;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  private readonly pixels: Uint8Array | Float32Array;
  private readonly labels: ArrayLike<number>;
  private readonly indices: Int32Array;
  private readonly featureSize: number;

  constructor(options: InMemoryDatasetOptions) {
    const { pixels, labels, inputShape, numClasses } = options;
    if (!Number.isInteger(numClasses) || numClasses < 1) invalid(`numClasses must be a positive integer, got ${numClasses}`);
    const featureSize = featureSizeOf(inputShape);
    if (pixels.length % featureSize !== 0) {
      invalid(`pixel count ${pixels.length} is not a multiple of the example size ${featureSize}`);
    }
    const total = pixels.length / featureSize;
    if (labels.length !== total) invalid(`${labels.length} labels for ${total} examples`);

    const indices = new Int32Array(options.indices === undefined ? total : options.indices.length);
    for (let i = 0; i < indices.length; i++) {
      const index = options.indices === undefined ? i : (options.indices[i] as number);
      if (!Number.isInteger(index) || index < 0 || index >= total) invalid(`example index ${index} is outside 0..${total - 1}`);
      const label = labels[index] as number;
      if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
        invalid(`label ${label} of example ${index} is outside 0..${numClasses - 1}`);
      }
      indices[i] = index;
    }

    this.pixels = pixels;
    this.labels = labels;
    this.indices = indices;
    this.featureSize = featureSize;
    this.size = indices.length;
    this.inputShape = Object.freeze([...inputShape]);
    this.numClasses = numClasses;
  }

  /**
   * Like the constructor, but copies only the selected examples, so that a worker holding one
   * shard does not keep the whole source array alive.
   */
  static compact(options: InMemoryDatasetOptions & { indices: ArrayLike<number> }): InMemoryDataset {
    const featureSize = featureSizeOf(options.inputShape);
    const { pixels, labels, indices } = options;
    const total = Math.floor(pixels.length / featureSize);
    const outPixels = pixels instanceof Uint8Array
      ? new Uint8Array(indices.length * featureSize)
      : new Float32Array(indices.length * featureSize);
    const outLabels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i] as number;
      if (!Number.isInteger(index) || index < 0 || index >= total) invalid(`example index ${index} is outside 0..${total - 1}`);
      outPixels.set(pixels.subarray(index * featureSize, (index + 1) * featureSize), i * featureSize);
      // Non-integer labels would be truncated by Int32Array; the constructor must still see them.
      const label = labels[index] as number;
      if (!Number.isInteger(label)) invalid(`label ${label} of example ${index} is not an integer`);
      outLabels[i] = label;
    }
    return new InMemoryDataset({ pixels: outPixels, labels: outLabels, inputShape: options.inputShape, numClasses: options.numClasses });
  }

  /** The label of each example, in dataset order (for partitioning and statistics). */
  labelArray(): Int32Array {
    const out = new Int32Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.labels[this.indices[i] as number] as number;
    return out;
  }

  *batches(batchSize: number, seed: number): Generator<Batch> {
    if (!Number.isInteger(batchSize) || batchSize < 1) invalid(`batch size must be a positive integer, got ${batchSize}`);
    const order = permutation(this.size, createRandom(seed));
    const f = this.featureSize;
    const scale = this.pixels instanceof Uint8Array ? 1 / 255 : 1;
    for (let start = 0; start < this.size; start += batchSize) {
      const size = Math.min(batchSize, this.size - start);
      // Fresh arrays per batch: tfjs backends may keep a reference to the array they were given.
      const xs = new Float32Array(size * f);
      const ys = new Int32Array(size);
      for (let b = 0; b < size; b++) {
        const index = this.indices[order[start + b] as number] as number;
        const src = index * f;
        const dst = b * f;
        for (let k = 0; k < f; k++) xs[dst + k] = (this.pixels[src + k] as number) * scale;
        ys[b] = this.labels[index] as number;
      }
      yield { xs, ys, size };
    }
  }
}
