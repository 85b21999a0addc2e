/**
 * The accountant's state across a restart: a RunPrivacy rebuilt from the state another one saved
 * reports the same ε and goes on composing from it; a state that does not parse stops the resume
 * with E_STORE instead of starting again at ε = 0.
 */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { RunPrivacy, type PrivacyState } from '../../../coordinator/engine/run-privacy.js';
import { epsilonFor } from '../../../coordinator/privacy/rdp-accountant.js';
import { createStrategy } from '../../../coordinator/strategy/create-strategy.js';

const config = parseRunConfig({
  model: { kind: 'builtin', name: '2nn' },
  rounds: 5,
  minClients: 3,
  roundTimeoutMs: 10_000,
  maxRoundRetries: 0,
  localEpochs: 1,
  batchSize: 32,
  optimizer: 'sgd',
  lr: 0.1,
  partition: { kind: 'iid', seed: 1 },
  seed: 1,
  keepCheckpoints: 1,
  secureAggregation: false,
  evaluation: 'none',
  privacy: { clipping: 'adaptive', clipNorm: 1, noiseMultiplier: 1, indicatorNoise: 5, delta: 1e-5 },
});
const strategy = createStrategy(config.strategy);
const sum = (n: number, value: number) => ({ weightedDeltaSum: new Float32Array(5).fill(value), totalWeight: n, contributors: n });

describe('the privacy state kept across a resume', () => {
  it('restores the composed rounds and the adaptive clip norm, and saves after every noised sum', () => {
    const saved: PrivacyState[] = [];
    const before = RunPrivacy.create(config, strategy)!;
    before.persistWith((state) => saved.push(state));
    for (let round = 0; round < 3; round++) before.finish(sum(3, 0.1), before.plan(1));
    expect(saved.length).toBe(3);

    const after = RunPrivacy.create(config, strategy, JSON.parse(JSON.stringify(saved.at(-1))))!;
    expect(after.report()).toEqual(before.report());
    expect(after.state().clipNorm).toBe(before.state().clipNorm);
    expect(after.state().clipNorm).not.toBe(1); // the clip norm moved, and the move was kept
    after.finish(sum(3, 0.1), after.plan(1));
    expect(after.report().rounds).toBe(4);
    expect(after.report().epsilon).toBeCloseTo(epsilonFor({ q: 1, sigma: after.plan(1).accounting.sigma, steps: 4, delta: 1e-5 }).epsilon, 9);
  });

  it.each([
    ['not an object', 'ε'],
    ['no history', { clipNorm: 1 }],
    ['a negative step count', { history: [{ q: 1, sigma: 1, steps: -2 }], clipNorm: 1 }],
    ['a zero clip norm', { history: [], clipNorm: 0 }],
  ])('refuses a stored state with %s (E_STORE)', (_name, state) => {
    expect(() => RunPrivacy.create(config, strategy, state)).toThrow(expect.objectContaining({ code: 'E_STORE' }));
  });
});
