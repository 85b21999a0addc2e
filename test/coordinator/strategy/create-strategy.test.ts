import { describe, expect, it } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';
import { createStrategy } from '../../../coordinator/strategy/create-strategy.js';
import { FedAdagrad } from '../../../coordinator/strategy/fedadagrad.js';
import { FedAdam } from '../../../coordinator/strategy/fedadam.js';
import { FedAvg } from '../../../coordinator/strategy/fedavg.js';
import { FedAvgM } from '../../../coordinator/strategy/fedavgm.js';
import { FedMedian } from '../../../coordinator/strategy/fedmedian.js';
import { FedProx } from '../../../coordinator/strategy/fedprox.js';
import { FedTrimmedAvg } from '../../../coordinator/strategy/fedtrimmedavg.js';
import { FedYogi } from '../../../coordinator/strategy/fedyogi.js';
import { Krum } from '../../../coordinator/strategy/krum.js';
import { assertCompatibleWithSecureAggregation } from '../../../coordinator/strategy/secure-compatibility.js';
import { parseStrategySpec, STRATEGY_NAMES } from '../../../coordinator/strategy/strategy-spec.js';

function errorOf(fn: () => unknown): CohortError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CohortError) return err;
    throw err;
  }
  throw new Error('expected a CohortError');
}

describe('createStrategy', () => {
  it('builds every strategy by name', () => {
    const classes = {
      fedavg: FedAvg,
      fedavgm: FedAvgM,
      fedprox: FedProx,
      fedadam: FedAdam,
      fedyogi: FedYogi,
      fedadagrad: FedAdagrad,
      fedmedian: FedMedian,
      fedtrimmedavg: FedTrimmedAvg,
      krum: Krum,
    };
    expect([...STRATEGY_NAMES].sort()).toEqual(Object.keys(classes).sort());
    for (const [name, cls] of Object.entries(classes)) {
      const strategy = createStrategy({ name } as Parameters<typeof createStrategy>[0]);
      expect(strategy).toBeInstanceOf(cls);
      expect(strategy.name).toBe(name);
    }
  });

  it('fills the documented defaults, the same as the classes use', () => {
    expect(parseStrategySpec({ name: 'fedadam' })).toEqual({ name: 'fedadam', serverLr: 0.01, beta1: 0.9, beta2: 0.99, tau: 0.001 });
    expect(parseStrategySpec({ name: 'krum', byzantine: 2 })).toEqual({ name: 'krum', byzantine: 2, keep: 1 });
    const fromSpec = createStrategy({ name: 'fedyogi' }) as FedYogi;
    const direct = new FedYogi();
    expect([fromSpec.serverLr, fromSpec.beta1, fromSpec.beta2, fromSpec.tau]).toEqual([direct.serverLr, direct.beta1, direct.beta2, direct.tau]);
    expect((createStrategy({ name: 'fedavgm' }) as FedAvgM).momentum).toBe(new FedAvgM().momentum);
  });

  it('passes the hyperparameters through', () => {
    const strategy = createStrategy({ name: 'fedprox', mu: 0.5 }) as FedProx;
    expect(strategy.mu).toBe(0.5);
    expect((createStrategy({ name: 'fedtrimmedavg', beta: 0.1 }) as FedTrimmedAvg).beta).toBe(0.1);
  });

  it('names the bad field and what was expected', () => {
    const unknownName = errorOf(() => createStrategy({ name: 'fedsgd' } as never));
    expect(unknownName.code).toBe('E_CONFIG_INVALID');
    expect(unknownName.message).toMatch(/^strategy\.name: expected one of fedavg, fedavgm, /);

    const negativeMu = errorOf(() => createStrategy({ name: 'fedprox', mu: -1 }));
    expect(negativeMu.message).toMatch(/^strategy\.mu: /);

    const typo = errorOf(() => createStrategy({ name: 'fedavgm', momentun: 0.9 } as never));
    expect(typo.message).toContain('momentun');

    const beta = errorOf(() => createStrategy({ name: 'fedtrimmedavg', beta: 0.5 }));
    expect(beta.message).toMatch(/^strategy\.beta: /);
  });
});

describe('assertCompatibleWithSecureAggregation', () => {
  it('refuses a strategy that needs individual updates under secure aggregation, naming both', () => {
    for (const name of ['fedmedian', 'fedtrimmedavg', 'krum'] as const) {
      const err = errorOf(() => assertCompatibleWithSecureAggregation(createStrategy({ name }), true));
      expect(err.code).toBe('E_STRATEGY_NEEDS_UPDATES');
      expect(err.message).toContain(`strategy "${name}"`);
      expect(err.message).toContain('secure aggregation');
    }
  });

  it('accepts them without secure aggregation, and sum-based strategies with it', () => {
    expect(() => assertCompatibleWithSecureAggregation(createStrategy({ name: 'krum' }), false)).not.toThrow();
    for (const name of ['fedavg', 'fedavgm', 'fedprox', 'fedadam', 'fedyogi', 'fedadagrad'] as const) {
      expect(() => assertCompatibleWithSecureAggregation(createStrategy({ name }), true)).not.toThrow();
    }
  });
});
