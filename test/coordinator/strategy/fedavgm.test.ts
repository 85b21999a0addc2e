import { describe, expect, it } from 'vitest';
import { FedAvg } from '../../../coordinator/strategy/fedavg.js';
import { FedAvgM } from '../../../coordinator/strategy/fedavgm.js';
import { roundOf, vec } from './helpers.js';

describe('FedAvgM (Hsu et al. 2019)', () => {
  it('applies heavy-ball momentum to the pseudo-gradient (hand-computed, two rounds)', () => {
    // Prepare: η = 0.5, β = 0.9; global [1, 2].
    const strategy = new FedAvgM({ serverLr: 0.5, momentum: 0.9 });
    // Round 1: weighted mean delta = (30·[3,0] + 10·[−1,4]) / 40 = [2, 1], so g = [−2, −1].
    // v = g = [−2, −1]; x = [1, 2] − 0.5·[−2, −1] = [2, 2.5].
    const r1 = strategy.aggregate(1, vec(1, 2), roundOf([[[3, 0], 30], [[-1, 4], 10]]));
    expect(Array.from(r1)).toEqual([2, 2.5]);
    // Round 2: mean delta [1, −1], g = [−1, 1]; v = 0.9·[−2, −1] + [−1, 1] = [−2.8, 0.1];
    // x = [2, 2.5] − 0.5·[−2.8, 0.1] = [3.4, 2.45].
    const r2 = strategy.aggregate(2, r1, roundOf([[[1, -1], 5]]));
    // Assert
    expect(r2[0]).toBeCloseTo(3.4, 5);
    expect(r2[1]).toBeCloseTo(2.45, 5);
  });

  it('is FedAvg when β = 0 and η = 1', () => {
    const round = roundOf([[[3, 0], 30], [[-1, 4], 10]]);
    const global = vec(1, 2);
    expect(Array.from(new FedAvgM({ serverLr: 1, momentum: 0 }).aggregate(1, global, round))).toEqual(Array.from(new FedAvg().aggregate(1, global, round)));
  });

  it('keeps the model and the velocity when nothing was contributed', () => {
    const strategy = new FedAvgM();
    const global = vec(5, 6);
    const next = strategy.aggregate(1, global, { weightedDeltaSum: new Float32Array(2), totalWeight: 0, contributors: 0 });
    expect(Array.from(next)).toEqual([5, 6]);
    expect(next).not.toBe(global);
    expect(strategy.state()).toEqual({});
  });

  it('checkpoints its velocity: a restored copy continues exactly like the original', () => {
    // Prepare: one round on the original.
    const original = new FedAvgM({ serverLr: 0.5, momentum: 0.9 });
    const r1 = original.aggregate(1, vec(1, 2), roundOf([[[2, 1], 1]]));
    const saved = original.state();
    expect(Array.from(saved['velocity']!)).toEqual([-2, -1]);
    // Execute: restore into a fresh strategy and run round 2 on both.
    const resumed = new FedAvgM({ serverLr: 0.5, momentum: 0.9 });
    resumed.restore(saved);
    const round2 = roundOf([[[1, -1], 1]]);
    // Assert
    expect(Array.from(resumed.aggregate(2, r1, round2))).toEqual(Array.from(original.aggregate(2, r1, round2)));
  });

  it('refuses state for a model of another size', () => {
    const strategy = new FedAvgM();
    strategy.restore({ velocity: new Float32Array(3) });
    expect(() => strategy.aggregate(1, vec(1, 2), roundOf([[[1, 1], 1]]))).toThrow(expect.objectContaining({ code: 'E_STRATEGY_STATE' }));
  });
});
