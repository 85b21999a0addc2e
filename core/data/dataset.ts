/**
 * A worker's local data. Implementations: a demo MNIST shard, a directory on disk (Node), files a
 * volunteer picked (browser, IndexedDB). Examples never leave the worker: only this interface's
 * consumer, the local training loop, reads them.
 */
export interface Batch {
  /** Row-major features, `size × product(inputShape)`, scaled to [0, 1]. */
  xs: Float32Array;
  /** Integer class labels, `size` of them. */
  ys: Int32Array;
  size: number;
}

export interface LocalDataset {
  readonly size: number;
  /** Shape of one example, e.g. [28, 28, 1] for MNIST. */
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** One epoch in an order shuffled by `seed`; the last batch may be short. */
  batches(batchSize: number, seed: number): Iterable<Batch>;
}
