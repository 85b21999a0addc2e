/**
 * Step `score` on its own: a held-out loss that is not finite loses the round's scores, never the
 * round (the step returns, the estimator is as before, every survivor keeps its earlier quality),
 * and a round without two groups is skipped with SecAgg+'s reason.
 */
import { describe, expect, it } from 'vitest';
import { QualityEstimator } from '../../../coordinator/contribution/quality-estimator.js';
import { parseQualityRule } from '../../../coordinator/contribution/quality-rule.js';
import type { RoundContext, RoundState, RunQuality } from '../../../coordinator/engine/round-state.js';
import { score } from '../../../coordinator/engine/steps/score.js';

const members = [['0xa', '0xb', '0xc'], ['0xd', '0xe', '0xf']];
const survivor = (address: string) => ({ address, examples: 10, trainLoss: 1, trainMs: 1, steps: 1 });

function stateWith(groups: NonNullable<RoundState['outcome']>['groups'], unavailable?: string): RoundState {
  return {
    round: 2,
    attempt: 1,
    startedAt: 0,
    deadline: 0,
    global: new Float32Array(2),
    outcome: {
      aggregate: { weightedDeltaSum: new Float32Array(2), totalWeight: 6, contributors: 6 },
      survivors: members.flat().map(survivor),
      dropped: [],
      groups,
      groupsUnavailable: unavailable,
    },
  };
}

describe('step score', () => {
  it('skips the scores, not the round, when the held-out loss is not finite', async () => {
    // Prepare: an estimator that has seen round 1
    const estimator = new QualityEstimator({ minGroupSize: 3 });
    estimator.observeRound(1, [{ members: members[0]!, score: 1 }, { members: members[1]!, score: 0 }], 1);
    const before = JSON.stringify(estimator.toJSON());
    const quality: RunQuality = { rule: parseQualityRule({ minGroupSize: 3 }), estimator, evaluate: async () => ({ loss: Number.NaN, accuracy: 0 }) };
    const state = stateWith(members.map((m) => ({ members: m, sum: Float32Array.from([1, 1]), totalWeight: 3 })));

    // Execute
    const result = await score.run(state, { quality } as unknown as RoundContext);

    // Assert
    expect(result).toBeUndefined();
    expect(state.scoring?.skipped).toMatch(/^not scored: .*not a finite number/);
    expect(JSON.stringify(quality.estimator.toJSON())).toBe(before);
    expect(state.scoring?.workers.get('0xa')?.estimate).toBe(estimator.quality('0xa').estimate);
  });

  it('skips a round without two groups, with the reason SecAgg+ gave', async () => {
    const quality: RunQuality = { rule: parseQualityRule({ minGroupSize: 3 }), estimator: new QualityEstimator({ minGroupSize: 3 }), evaluate: async () => ({ loss: 1, accuracy: 0 }) };
    const state = stateWith(undefined, 'revealed different seeds for their pair');
    await score.run(state, { quality } as unknown as RoundContext);
    expect(state.scoring?.skipped).toBe('revealed different seeds for their pair');
    expect(state.scoring?.workers.size).toBe(6);
  });
});
