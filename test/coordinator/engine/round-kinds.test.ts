/**
 * A round is a sequence of steps over one RoundState: a step that runs before the step it needs
 * fails loudly, and a round refused after `aggregate` leaves the strategy's server state as it was.
 */
import { describe, expect, it } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';
import type { RoundContext, RoundState } from '../../../coordinator/engine/round-state.js';
import { runRoundSteps } from '../../../coordinator/engine/round-kinds.js';
import { aggregate } from '../../../coordinator/engine/steps/aggregate.js';
import { check } from '../../../coordinator/engine/steps/check.js';
import { commit } from '../../../coordinator/engine/steps/commit.js';
import { FedAvgM } from '../../../coordinator/strategy/fedavgm.js';

function stateWith(sumValue: number): RoundState {
  return {
    round: 1,
    attempt: 1,
    startedAt: 0,
    deadline: 0,
    global: Float32Array.from([0, 0]),
    plan: { assignments: [], updateLength: 2, maxWork: 10, maxWeight: 10, coordinateBound: 1 },
    outcome: { aggregate: { weightedDeltaSum: Float32Array.from([sumValue, 0]), totalWeight: 10, contributors: 1 }, survivors: [], dropped: [] },
  };
}

/** Only what aggregate and check use: the strategy, and no privacy. */
const contextFor = (strategy: FedAvgM) => ({ strategy, privacy: undefined }) as unknown as RoundContext;

describe('round kinds', () => {
  it('fails loudly when a step runs before the step that provides its input', async () => {
    const state: RoundState = { round: 1, attempt: 1, startedAt: 0, deadline: 0, global: new Float32Array(2) };
    const error = await runRoundSteps([commit], state, contextFor(new FedAvgM())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CohortError);
    expect((error as CohortError).code).toBe('E_INTERNAL');
    expect((error as CohortError).message).toMatch(/"commit" needs "plan"/);
  });

  it('rolls the strategy state back when check refuses the round', async () => {
    // Prepare: FedAvgM has momentum from one committed round.
    const strategy = new FedAvgM({ serverLr: 1, momentum: 0.9 });
    strategy.aggregate(1, new Float32Array(2), stateWith(5).outcome!.aggregate);
    const before = strategy.state();
    // Execute: a sum beyond Σw × bound (10 × 1) is refused after aggregate has moved the momentum.
    const failure = await runRoundSteps([aggregate, check], stateWith(50), contextFor(strategy));
    // Assert
    expect(failure).toMatch(/aggregate check refused the round: sum coordinate 0 is 50/);
    expect(Array.from(strategy.state().velocity!)).toEqual(Array.from(before.velocity!));
  });
});
