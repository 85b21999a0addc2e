/**
 * A worker's held-out split for federated evaluation: examples it evaluates the global model on
 * and NEVER trains on.
 *
 * Membership is decided by a hash of the example itself (its feature values and label), not by
 * its position: any LocalDataset can be split without copying it, the split does not depend on the
 * order the data was loaded in, and identical copies of one example always fall on the same side,
 * so a duplicate cannot leak a training example into the held-out set. The held-out share is
 * `fraction` in expectation (exactly so only for large datasets).
 */
import { CohortError } from '../protocol/errors.js';
import type { Batch, LocalDataset } from './dataset.js';

export interface HeldOutSplit {
  /** The examples to train on. */
  train: LocalDataset;
  /** The examples to evaluate on; disjoint from `train`. */
  heldOut: LocalDataset;
}

/** Batch size of the counting pass; any size gives the same counts. */
const COUNT_BATCH = 1024;

/** FNV-1a over the float32 bit patterns of one example and its label, mapped to [0, 1). */
export function exampleHash(xs: Float32Array, offset: number, length: number, label: number): number {
  const bits = new Uint32Array(xs.buffer, xs.byteOffset + offset * 4, length);
  let h = 2_166_136_261;
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i]!, 16_777_619);
  h = Math.imul(h ^ label, 16_777_619);
  // A final avalanche (murmur3's fmix32): FNV's low bits alone are not uniform enough.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4_294_967_296;
}

function featureSizeOf(data: LocalDataset): number {
  return data.inputShape.reduce((a, b) => a * b, 1);
}

function isHeldOut(batch: Batch, i: number, featureSize: number, fraction: number): boolean {
  return exampleHash(batch.xs, i * featureSize, featureSize, batch.ys[i]!) < fraction;
}

class HeldOutSide implements LocalDataset {
  readonly size: number;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  private readonly featureSize: number;

  constructor(
    private readonly source: LocalDataset,
    private readonly fraction: number,
    private readonly heldOut: boolean,
    size: number,
  ) {
    this.inputShape = source.inputShape;
    this.numClasses = source.numClasses;
    this.featureSize = featureSizeOf(source);
    this.size = size;
  }

  private keeps(batch: Batch, i: number): boolean {
    return isHeldOut(batch, i, this.featureSize, this.fraction) === this.heldOut;
  }

  /** The source's shuffled order with the other side's examples left out, re-packed into full batches. */
  *batches(batchSize: number, seed: number): Generator<Batch> {
    const f = this.featureSize;
    let xs = new Float32Array(batchSize * f);
    let ys = new Int32Array(batchSize);
    let filled = 0;
    for (const batch of this.source.batches(batchSize, seed)) {
      for (let i = 0; i < batch.size; i++) {
        if (!this.keeps(batch, i)) continue;
        xs.set(batch.xs.subarray(i * f, (i + 1) * f), filled * f);
        ys[filled] = batch.ys[i]!;
        if (++filled === batchSize) {
          yield { xs, ys, size: filled };
          // Fresh arrays per batch: tfjs backends may keep a reference to the ones they were given.
          xs = new Float32Array(batchSize * f);
          ys = new Int32Array(batchSize);
          filled = 0;
        }
      }
    }
    if (filled > 0) yield { xs: xs.slice(0, filled * f), ys: ys.slice(0, filled), size: filled };
  }
}

/** Splits `data` into a training part and a held-out part of about `fraction` of its examples. */
export function splitHeldOut(data: LocalDataset, fraction: number): HeldOutSplit {
  if (!(fraction > 0 && fraction < 1)) throw new CohortError('E_CONFIG_INVALID', `held-out fraction must be in (0, 1), got ${fraction}`);
  const f = featureSizeOf(data);
  let held = 0;
  for (const batch of data.batches(COUNT_BATCH, 0)) {
    for (let i = 0; i < batch.size; i++) if (isHeldOut(batch, i, f, fraction)) held++;
  }
  return { train: new HeldOutSide(data, fraction, false, data.size - held), heldOut: new HeldOutSide(data, fraction, true, held) };
}
