/**
 * A resumed run scores as if it had never stopped: openRunQuality restores the estimator from the
 * store's newest state (written in each scored round's commit), and refuses a quality rule
 * without a held-out evaluation.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QualityEstimator } from '../../../coordinator/contribution/quality-estimator.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { openRunQuality } from '../../../coordinator/engine/run-quality.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { scratchDir } from '../../e2e/helpers.js';

const config = parseRunConfig({
  model: { kind: 'builtin', name: '2nn' },
  rounds: 5,
  minClients: 6,
  roundTimeoutMs: 1000,
  maxRoundRetries: 0,
  localEpochs: 1,
  batchSize: 10,
  optimizer: 'sgd',
  lr: 0.1,
  partition: { kind: 'iid', seed: 1 },
  seed: 1,
  evaluation: 'mnist',
  keepCheckpoints: 1,
  quality: { minGroupSize: 3 },
});
const evaluator = { evaluate: async () => ({ loss: 1, accuracy: 0 }) };

describe('openRunQuality', () => {
  const dir = scratchDir('cohort-quality-resume-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes the estimator from the store, and starts empty without a saved state', () => {
    // Prepare: an estimator that has seen two rounds, saved as a commit saves it
    const path = join(dir, 'store.sqlite');
    const store = new RunStore(path);
    store.createRun('r1', config);
    const fresh = openRunQuality(config, store, 'r1', evaluator)!;
    expect(fresh.estimator.quality('0xa').observations).toBe(0);
    const seen = new QualityEstimator({ minGroupSize: 3 });
    seen.observeRound(1, [{ members: ['0xa', '0xb', '0xc'], score: 1 }, { members: ['0xd', '0xe', '0xf'], score: -1 }], 1);
    seen.observeRound(2, [{ members: ['0xa', '0xd', '0xe'], score: 0.2 }, { members: ['0xb', '0xc', '0xf'], score: 0.3 }], 1);
    store.quality.saveState('r1', 2, seen.toJSON());
    store.close();

    // Execute: a restarted coordinator opens the same store
    const reopened = new RunStore(path);
    const resumed = openRunQuality(config, reopened, 'r1', evaluator)!;
    reopened.close();

    // Assert: the same estimates, to the last bit
    for (const address of ['0xa', '0xb', '0xc', '0xd', '0xe', '0xf']) expect(resumed.estimator.quality(address)).toEqual(seen.quality(address));
  });

  it('refuses a quality rule without a held-out evaluation, and is off without a rule', () => {
    const store = new RunStore(join(dir, 'other.sqlite'));
    expect(() => openRunQuality(config, store, 'r2', undefined)).toThrow(/rewards\.quality: contribution scoring needs the coordinator's held-out set/);
    expect(openRunQuality({ ...config, quality: undefined }, store, 'r2', undefined)).toBeUndefined();
    store.close();
  });
});
