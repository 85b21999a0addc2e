/**
 * `cohort simulate` with a `simulation` block, end to end through the real engine: replies arrive
 * in order of simulated finish (so over-selection keeps the fast clients and cuts the slow ones),
 * fleet time follows the speeds, vanishing clients are dropouts, and rewardShare attributes the
 * budget to the adversary classes. Few clients, few rounds, the 2NN, a handful of steps.
 */
import { Wallet } from 'ethers';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { validateRunFile } from '../../../coordinator/run-file/load.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';
import { drawFleet } from '../../../coordinator/simulate/fleet-spec.js';
import { simulatedKey } from '../../../coordinator/simulate/sim-client.js';
import { simulate } from '../../../coordinator/simulate/simulate.js';
import { scratchDir } from '../../e2e/helpers.js';

const dir = scratchDir('cohort-simulate-fleet-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { model: '2nn', data: 'iid', rounds: 2, optimizer: 'sgd', lr: 0.1, batchSize: 10, localEpochs: 1, maxLocalSteps: 4, evaluation: 'mnist', seed: 11 };

describe('simulated fleet', () => {
  it('over-selection keeps the clients that finish first in simulated time, and fleet time follows the speeds', async () => {
    const simulation = { speedFactors: { distribution: 'log-uniform', min: 1, max: 20 }, baseStepSeconds: 1 };
    const file = validateRunFile({ ...base, secureAggregation: false, clientsPerRound: 2, minClients: 2, overSelect: 3, simulation }, dir);
    const storePath = join(dir, 'speeds.sqlite');
    const plan = toRunPlan(file, { population: 6 });
    const summary = await simulate({ plan, clients: 6, threads: 2, storePath });
    expect(summary).toMatchObject({ status: 'completed', rounds: 2, mode: 'sync' });

    // All 6 are selected each round; the 2 fastest must be the ones kept, every round.
    const fleet = drawFleet(plan.simulation, 6, 11);
    const byAddress = new Map(fleet.map((m, i) => [new Wallet(simulatedKey(11, i)).address.toLowerCase(), m.speedFactor]));
    const fastest = [...fleet.map((m) => m.speedFactor)].sort((a, b) => a - b).slice(0, 2);
    const store = new RunStore(storePath);
    try {
      for (const round of [1, 2]) {
        const kept = store.contributions(summary.runId).filter((c) => c.round === round).map((c) => byAddress.get(c.address.toLowerCase()));
        expect(kept.sort((a, b) => a! - b!)).toEqual(fastest);
      }
    } finally {
      store.close();
    }
    // A round lasts as long as its 2nd-fastest client: 4 steps × its factor × 1 s.
    for (const h of summary.history) expect(h.fleetSeconds).toBeCloseTo(4 * fastest[1]!, 6);
    expect(summary.fleetSeconds).toBeCloseTo(2 * 4 * fastest[1]!, 6);
  }, 120_000);

  it('vanishing clients are dropouts, and rewardShare attributes the budget to each class (SecAgg+ on)', async () => {
    const simulation = { vanishShare: 0.25, adversaries: [{ kind: 'zero', share: 0.25 }, { kind: 'noise', share: 0.25 }] };
    const file = validateRunFile({ ...base, rounds: 3, secureAggregation: true, clientsPerRound: 4, minClients: 3, overSelect: 1, maxExamplesPerWorker: 600, simulation }, dir);
    const storePath = join(dir, 'vanish.sqlite');
    const plan = toRunPlan(file, { population: 8 });
    const summary = await simulate({ plan, clients: 8, threads: 2, storePath });
    expect(summary).toMatchObject({ status: 'completed', rounds: 3, secureAggregation: true });

    const fleet = drawFleet(plan.simulation, 8, 11);
    const vanishers = new Set(fleet.flatMap((m, i) => (m.vanishes ? [new Wallet(simulatedKey(11, i)).address.toLowerCase()] : [])));
    expect(vanishers.size).toBe(2);
    const store = new RunStore(storePath);
    try {
      const contributors = store.contributions(summary.runId).map((c) => c.address.toLowerCase());
      expect(contributors.filter((a) => vanishers.has(a))).toEqual([]);
    } finally {
      store.close();
    }
    // Each selected vanisher is one dropout, once: 4 selected per round.
    const dropouts = summary.history.reduce((n, h) => n + (4 - h.participants), 0);
    expect(dropouts).toBeGreaterThanOrEqual(1);
    expect(dropouts).toBeLessThanOrEqual(2);

    expect(Object.keys(summary.rewardShare).sort()).toEqual(['honest', 'noise', 'zero']);
    const total = Object.values(summary.rewardShare).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 4);
    expect(summary.history.every((h) => h.fleetSeconds > 0)).toBe(true);
    expect(summary.fleetSeconds).toBeCloseTo(summary.history.reduce((n, h) => n + h.fleetSeconds, 0), 6);
  }, 120_000);

  it('mode async: versions from concurrent secure groups, each timed from the version before it', async () => {
    const simulation = { speedFactors: { distribution: 'log-uniform', min: 1, max: 20 }, baseStepSeconds: 1 };
    const file = validateRunFile({ ...base, rounds: 4, secureAggregation: true, mode: 'async', bufferSize: 3, overSelect: 1, minClients: 3, simulation }, dir);
    const storePath = join(dir, 'async.sqlite');
    const plan = toRunPlan(file, { population: 9 });
    const summary = await simulate({ plan, clients: 9, threads: 2, storePath });
    expect(summary).toMatchObject({ status: 'completed', rounds: 4, mode: 'async', secureAggregation: true });
    expect(summary.history.map((h) => h.round)).toEqual([1, 2, 3, 4]);
    expect(summary.history.every((h) => h.participants === 3 && h.fleetSeconds >= 0)).toBe(true);
    // Versions are timed back to back: they add up to when the last one was applied, within the run.
    const applied = summary.history.reduce((n, h) => n + h.fleetSeconds, 0);
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThanOrEqual(summary.fleetSeconds + 1e-9);
    const store = new RunStore(storePath);
    try {
      expect(store.rounds(summary.runId).map((r) => [r.round, r.participants, r.secure])).toEqual([1, 2, 3, 4].map((v) => [v, 3, true]));
    } finally {
      store.close();
    }
  }, 120_000);
});
