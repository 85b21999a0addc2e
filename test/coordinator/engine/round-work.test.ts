/**
 * Capability-aware work: the steps a worker is given fit its speed and the round's target, within
 * [1, what its data and epochs allow], and a round never credits more work than it assigned.
 */
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../../core/protocol/messages.js';
import { assignedMaxWork, stepsAllowed, stepsForTarget } from '../../../coordinator/engine/round-work.js';
import type { RoundPlan } from '../../../coordinator/engine/round-state.js';

describe('round work', () => {
  it('allows localEpochs × ⌈examples ÷ batchSize⌉ steps, within the base cap, at least 1', () => {
    expect(stepsAllowed({ localEpochs: 2, batchSize: 32, maxLocalSteps: undefined }, 100)).toBe(8);
    expect(stepsAllowed({ localEpochs: 2, batchSize: 32, maxLocalSteps: 5 }, 100)).toBe(5);
    expect(stepsAllowed({ localEpochs: 1, batchSize: 32, maxLocalSteps: undefined }, 0)).toBe(1);
  });

  it('fits the target at the estimated speed, clamped to [1, allowed]', () => {
    expect(stepsForTarget(10, 2.5, 100)).toBe(25);
    expect(stepsForTarget(10, 0.01, 100)).toBe(1);
    expect(stepsForTarget(10, 1e6, 100)).toBe(100);
    expect(stepsForTarget(1e300, 1e300, 100)).toBe(100);
  });

  it('caps the credited work at the assigned steps × batchSize and the run bound', () => {
    const config = (maxLocalSteps?: number): TrainConfig => ({ localEpochs: 1, batchSize: 32, optimizer: 'sgd', lr: 0.1, seed: 0, ...(maxLocalSteps ? { maxLocalSteps } : {}) });
    const assignment = (address: string, maxLocalSteps?: number) => ({ worker: { channel: { address } }, config: config(maxLocalSteps) });
    const plan = { maxWork: 1_000, assignments: [assignment('a', 5), assignment('b', 100), assignment('c')] } as unknown as Pick<RoundPlan, 'assignments' | 'maxWork'>;
    const bound = assignedMaxWork(plan);
    expect(['a', 'b', 'c', 'unknown'].map(bound)).toEqual([160, 1_000, 1_000, 1_000]);
  });
});
