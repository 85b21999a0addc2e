/**
 * The coordinator's reference update (ModelHost.referenceUpdate), what contribution scoring
 * scores groups against: local training from the given weights on a seeded sample of the
 * held-out set, returned as a delta. It moves the model, lowers the held-out loss, leaves the
 * caller's weights alone, and the same seed gives the same update.
 */
import { describe, expect, it } from 'vitest';
import { ModelHost } from '../../../coordinator/evaluation/model-host.js';
import { loadMnistTestSet } from '../../../coordinator/evaluation/mnist-test-set.js';

describe('ModelHost.referenceUpdate', () => {
  it('trains on a seeded held-out sample and returns the delta', async () => {
    const host = await ModelHost.create({ kind: 'builtin', name: '2nn' }, await loadMnistTestSet());
    try {
      const weights = await host.initialWeights();
      const copy = weights.slice();
      const config = { localEpochs: 1, batchSize: 10, optimizer: 'sgd' as const, lr: 0.1, seed: 7 };
      const delta = await host.referenceUpdate(weights, config, 200);
      expect(delta.length).toBe(weights.length);
      expect(weights).toEqual(copy);
      expect(Math.sqrt(delta.reduce((s, v) => s + v * v, 0))).toBeGreaterThan(0.1);
      const before = (await host.evaluate(weights)).loss;
      const after = (await host.evaluate(weights.map((w, i) => w + delta[i]!))).loss;
      expect(after).toBeLessThan(before);
      expect(await host.referenceUpdate(weights, config, 200)).toEqual(delta);
      const other = await host.referenceUpdate(weights, { ...config, seed: 8 }, 200);
      expect(other).not.toEqual(delta);
    } finally {
      host.dispose();
    }
  }, 60_000);
});
