/**
 * The worker's half of FedNova: the delta divided by the steps taken, only when the round's
 * instructions ask for it, and the SecAgg+ weight a FedNova worker masks with (its assigned share,
 * not the examples it processed).
 */
import { describe, expect, it } from 'vitest';
import { trainConfigSchema } from '../../../core/protocol/messages.js';
import { normalizeBySteps, secureInputWeight, withNormalizedDelta } from '../../../core/train/step-normalization.js';

describe('step normalization (FedNova, worker side)', () => {
  const delta = Float32Array.from([4, -8, 0.5]);

  it('divides the delta by the steps taken, and by 1 for a worker that took none', () => {
    expect(Array.from(normalizeBySteps(delta, 4))).toEqual([1, -2, 0.125]);
    expect(Array.from(normalizeBySteps(delta, 0))).toEqual([4, -8, 0.5]);
    expect(normalizeBySteps(delta, 1)).not.toBe(delta);
  });

  it('normalises only when the instructions carry fedNova', () => {
    const result = { delta, steps: 2, examples: 64 };
    expect(withNormalizedDelta(result, {})).toBe(result);
    expect(Array.from(withNormalizedDelta(result, { fedNova: { weightExamples: 64 } }).delta)).toEqual([2, -4, 0.25]);
  });

  it('masks with its share over the cap under FedNova, its examples otherwise, 1 under DP', () => {
    expect(secureInputWeight({ fedNova: { weightExamples: 300 } }, 32, 600)).toBe(0.5);
    expect(secureInputWeight({}, 300, 600)).toBe(0.5);
    expect(secureInputWeight({ fedNova: { weightExamples: 5_000 } }, 32, 600)).toBe(1);
    expect(secureInputWeight({ fedNova: { weightExamples: 0 } }, 0, 600)).toBe(1e-9);
    expect(secureInputWeight({ dp: {} }, 300, 600)).toBe(1);
  });

  it('is validated on the wire: a share is a non-negative integer, and nothing else rides along', () => {
    const base = { localEpochs: 1, batchSize: 32, optimizer: 'sgd', lr: 0.1, maxLocalSteps: 7, seed: 1 };
    expect(trainConfigSchema.safeParse({ ...base, fedNova: { weightExamples: 600 } }).success).toBe(true);
    for (const fedNova of [{ weightExamples: -1 }, { weightExamples: 1.5 }, { weightExamples: Number.NaN }, { weightExamples: 1, extra: 1 }, {}]) {
      expect(trainConfigSchema.safeParse({ ...base, fedNova }).success).toBe(false);
    }
    expect(trainConfigSchema.safeParse({ ...base, maxLocalSteps: 0 }).success).toBe(false);
  });
});
