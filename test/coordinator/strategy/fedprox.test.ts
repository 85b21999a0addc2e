import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../../core/protocol/messages.js';
import { FedAvg } from '../../../coordinator/strategy/fedavg.js';
import { FedProx } from '../../../coordinator/strategy/fedprox.js';
import { roundOf, vec } from './helpers.js';

const base: TrainConfig = { localEpochs: 1, batchSize: 10, optimizer: 'sgd', lr: 0.1, seed: 7 };

describe('FedProx (Li et al. 2020)', () => {
  it('asks every client for the proximal term μ and changes nothing else', () => {
    // Prepare
    const candidates = ['0xa', '0xb'].map((address) => ({ address, kind: 'node' as const, backend: 'cpu', examples: 10 }));
    // Execute
    const instructions = new FedProx({ mu: 0.1 }).configureRound(4, candidates, base);
    // Assert
    expect(instructions).toEqual(candidates.map((c) => ({ address: c.address, config: { ...base, proximalMu: 0.1 } })));
    expect(base).not.toHaveProperty('proximalMu');
  });

  it('uses μ = 0.01 by default', () => {
    expect(new FedProx().localTraining(1, base).proximalMu).toBe(0.01);
  });

  it('is FedAvg plus one hook: FedAvg itself leaves local training unchanged', () => {
    const candidate = { address: '0xa', kind: 'browser' as const, backend: 'webgpu', examples: 5 };
    expect(new FedAvg().configureRound(2, [candidate], base)).toEqual([{ address: '0xa', config: base }]);
  });

  it('aggregates exactly as FedAvg', () => {
    const round = roundOf([[[3, 0], 30], [[-1, 4], 10]]);
    expect(Array.from(new FedProx().aggregate(1, vec(1, 2), round))).toEqual(Array.from(new FedAvg().aggregate(1, vec(1, 2), round)));
  });

  it('refuses a negative μ', () => {
    expect(() => new FedProx({ mu: -1 })).toThrow(RangeError);
  });
});
