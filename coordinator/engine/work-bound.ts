/**
 * How much one worker can count for in a round. A worker's declared `examples` is not verifiable,
 * so the run bounds it with `maxExamplesPerWorker` (run file / --max-examples-per-worker): the
 * most work one worker can do in a round is that many examples per epoch, capped by
 * maxLocalSteps × batchSize. This bound clamps the aggregation weight of plain rounds, the
 * SecAgg+ weight cap of secure rounds (so no worker's declaration moves it), and the
 * contribution that a round credits on the ledger.
 */
import type { RunConfig } from './run-config.js';

/** Examples in MNIST's training set, which the demo splits among its workers. */
export const MNIST_TRAIN_EXAMPLES = 60_000;

/** The default for `data: local` runs, where the coordinator cannot know the workers' data. */
export const DEFAULT_LOCAL_MAX_EXAMPLES_PER_WORKER = 100_000;

/**
 * The default for MNIST demo runs: twice a demo worker's shard, ⌈60,000 ÷ shards⌉. With the
 * shard count unknown (workers started elsewhere with --shard i/N), one shard: the whole set.
 */
export function defaultMnistMaxExamplesPerWorker(shards: number | undefined): number {
  const count = shards !== undefined && Number.isInteger(shards) && shards >= 1 ? shards : 1;
  return 2 * Math.ceil(MNIST_TRAIN_EXAMPLES / count);
}

/** The most examples one worker can be credited with in one round (its weight and its reward). */
export function maxRoundWork(config: Pick<RunConfig, 'maxExamplesPerWorker' | 'localEpochs' | 'maxLocalSteps' | 'batchSize'>): number {
  const byData = config.maxExamplesPerWorker * config.localEpochs;
  const bySteps = config.maxLocalSteps === undefined ? Number.POSITIVE_INFINITY : config.maxLocalSteps * config.batchSize;
  return Math.max(1, Math.round(Math.min(byData, bySteps)));
}

/** A declared amount of work, clamped to what the run allows one worker per round. */
export function creditedWork(declared: number, maxWork: number): number {
  return Math.max(0, Math.min(declared, maxWork));
}
