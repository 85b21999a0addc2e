/**
 * The simulated fleet's parts: the fleet clock (replies in order of simulated finish), the seeded
 * fleet draw, the `simulation` block's refusals, the adversaries' updates (on the real training
 * pool) and rewardShare's attribution.
 */
import { describe, expect, it } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';
import type { TrainMessage } from '../../../core/protocol/messages.js';
import { InMemoryDataset } from '../../../core/data/in-memory.js';
import { buildModel } from '../../../core/models/builtin.js';
import { trainLocally } from '../../../core/train/local-train.js';
import { getFlatWeights, setFlatWeights } from '../../../core/train/weights.js';
import { useCoordinatorBackend } from '../../../coordinator/evaluation/tf-backend.js';
import { validateRunFile } from '../../../coordinator/run-file/load.js';
import { FleetClock } from '../../../coordinator/simulate/fleet-clock.js';
import { rewardPaid, rewardShares } from '../../../coordinator/simulate/fleet-report.js';
import { drawFleet, type FleetMember } from '../../../coordinator/simulate/fleet-spec.js';
import { ClientBehaviour } from '../../../coordinator/simulate/sim-behaviour.js';
import { clientShards, loadSharedMnist } from '../../../coordinator/simulate/sim-data.js';
import { TrainingPool } from '../../../coordinator/simulate/training-pool.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('fleet clock', () => {
  it('releases replies in order of simulated finish, whatever order the pool finishes them in, and accumulates fleet time', async () => {
    const clock = new FleetClock();
    const order: string[] = [];
    const slow = deferred<string>();
    const fast = deferred<string>();
    const mid = deferred<string>();
    const held = [clock.hold(20, slow.promise), clock.hold(1, fast.promise), clock.hold(5, mid.promise)].map((p) => p.then((v) => (order.push(v), v)));
    slow.resolve('slow'); // the pool finishes the slow client's training first
    mid.resolve('mid');
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]); // the fast one is still training: nothing may overtake it
    fast.resolve('fast');
    await Promise.all(held);
    expect(order).toEqual(['fast', 'mid', 'slow']);
    expect(clock.now).toBe(20);
    // The next round starts from the fleet's time.
    await clock.hold(3, Promise.resolve('next'));
    expect(clock.now).toBe(23);
  });

  it('withdraws an aborted (cancelled) entry, so later ones go, and the cancelled one costs no fleet time', async () => {
    const clock = new FleetClock();
    const controller = new AbortController();
    const straggler = clock.hold(100, new Promise<string>(() => undefined), controller.signal);
    const done = clock.hold(2, Promise.resolve('done'));
    controller.abort(new Error('cancelled'));
    await expect(straggler).rejects.toThrow('cancelled');
    await expect(done).resolves.toBe('done');
    expect(clock.now).toBe(2);
  });
});

describe('fleet draw and the simulation block', () => {
  const spec = { speedFactors: { distribution: 'log-uniform' as const, min: 1, max: 20 }, baseStepSeconds: 0.01, vanishShare: 0.2, adversaries: [{ kind: 'zero' as const, share: 0.1 }, { kind: 'replay' as const, share: 0.3 }] };

  it('is seeded, within the speed range, with the shares asked for', () => {
    const fleet = drawFleet(spec, 100, 7);
    expect(drawFleet(spec, 100, 7)).toEqual(fleet);
    expect(drawFleet(spec, 100, 8)).not.toEqual(fleet);
    expect(fleet.every((m) => m.speedFactor >= 1 && m.speedFactor <= 20)).toBe(true);
    expect(Math.max(...fleet.map((m) => m.speedFactor)) / Math.min(...fleet.map((m) => m.speedFactor))).toBeGreaterThan(5);
    expect(fleet.filter((m) => m.vanishes)).toHaveLength(20);
    expect(fleet.filter((m) => m.role === 'zero')).toHaveLength(10);
    expect(fleet.filter((m) => m.role === 'replay')).toHaveLength(30);
    expect(fleet.filter((m) => m.role === 'honest')).toHaveLength(60);
    expect(drawFleet(undefined, 3, 1)).toEqual(Array.from({ length: 3 }, () => ({ speedFactor: 1, vanishes: false, role: 'honest' })));
  });

  const refusal = (simulation: unknown): string => {
    try {
      validateRunFile({ model: '2nn', simulation }, '/tmp');
    } catch (error) {
      expect(error).toBeInstanceOf(CohortError);
      return `${(error as CohortError).code}: ${(error as CohortError).message}`;
    }
    throw new Error('accepted');
  };

  it('refuses unknown kinds, shares outside [0, 1] and shares summing over 1, naming the field', () => {
    expect(refusal({ adversaries: [{ kind: 'sybil', share: 0.1 }] })).toMatch(/^E_CONFIG_INVALID: simulation\.adversaries\[0\]\.kind/);
    expect(refusal({ adversaries: [{ kind: 'zero', share: 1.5 }] })).toMatch(/^E_CONFIG_INVALID: simulation\.adversaries\[0\]\.share/);
    expect(refusal({ adversaries: [{ kind: 'zero', share: -0.1 }] })).toMatch(/^E_CONFIG_INVALID: simulation\.adversaries\[0\]\.share/);
    expect(refusal({ adversaries: [{ kind: 'zero', share: 0.6 }, { kind: 'noise', share: 0.6 }] })).toMatch(/^E_CONFIG_INVALID: simulation\.adversaries: .*sum to more than 1/);
    expect(refusal({ vanishShare: 2 })).toMatch(/^E_CONFIG_INVALID: simulation\.vanishShare/);
    expect(refusal({ speedFactors: { distribution: 'log-uniform', min: 5, max: 2 } })).toMatch(/^E_CONFIG_INVALID: simulation\.speedFactors\.max/);
    expect(refusal({ baseStepSecond: 1 })).toMatch(/^E_CONFIG_INVALID: simulation/);
  });
});

describe('rewardShare', () => {
  it("splits each round's reward by credited work and sums the classes' shares to 1", () => {
    const classes = new Map<string, 'honest' | 'zero'>([
      ['0x' + '1'.repeat(40), 'honest'],
      ['0x' + '2'.repeat(40), 'honest'],
      ['0x' + '3'.repeat(40), 'zero'],
    ]);
    const contributions = [1, 2].flatMap((round) => [...classes.keys()].map((address) => ({ round, address, amount: 600 })));
    const shares = rewardShares(contributions, classes, { rounds: 2 });
    expect(Object.keys(shares).sort()).toEqual(['honest', 'zero']);
    expect(shares.zero).toBeCloseTo(1 / 3, 5);
    expect(shares.honest! + shares.zero!).toBeCloseTo(1, 5);
    // The per-round cap: declaring more than the cap earns no more.
    const zeroAddress = '0x' + '3'.repeat(40);
    const inflated = [...contributions.filter((c) => !(c.address === zeroAddress && c.round === 1)), { round: 1, address: zeroAddress, amount: 6000 }];
    expect(rewardShares(inflated, classes, { rounds: 2, perWorkerContributionCap: 600 }).zero).toBeCloseTo(1 / 3, 5);
    expect(rewardShares(inflated, classes, { rounds: 2 }).zero).toBeGreaterThan(0.5);
  });

  it('reports the share of the budget paid: all of it under declared work, less where a quality factor withheld work', () => {
    const classes = new Map<string, 'honest' | 'zero'>([
      ['0x' + '1'.repeat(40), 'honest'],
      ['0x' + '3'.repeat(40), 'zero'],
    ]);
    const declared = [1, 2].flatMap((round) => [...classes.keys()].map((address) => ({ round, address, amount: 600, examples: 600 })));
    expect(rewardPaid(declared, classes, { rounds: 2 })).toBeCloseTo(1, 5);
    // Round 2 never happened, and in round 1 the zero worker's factor was 0: a quarter of the budget paid.
    const scored = [{ round: 1, address: '0x' + '1'.repeat(40), amount: 600, examples: 600 }, { round: 1, address: '0x' + '3'.repeat(40), amount: 0, examples: 600 }];
    expect(rewardPaid(scored, classes, { rounds: 2 })).toBeCloseTo(0.25, 5);
    expect(rewardShares(scored, classes, { rounds: 2 }).zero).toBe(0);
  });
});

describe('adversaries on the real training pool', () => {
  it('zero sends a zero delta declaring the cap; noise is bounded; labelflip trains on flipped labels; replay resends its previous update', async () => {
    await useCoordinatorBackend();
    const data = loadSharedMnist();
    const [shard] = clientShards(data, 600, { kind: 'iid', alpha: 0.5, shardsPerClient: 2, seed: 3 });
    const pool = await TrainingPool.start({ threads: 2, model: { kind: 'builtin', name: '2nn' }, data });
    const model = buildModel({ kind: 'builtin', name: '2nn' });
    try {
      const weights = await getFlatWeights(model);
      const config = { localEpochs: 1, batchSize: 10, optimizer: 'sgd' as const, lr: 0.1, maxLocalSteps: 5, seed: 9 };
      const message = (round: number): TrainMessage => ({ type: 'train', runId: 'r', round, weights, config, deadline: Date.now() + 60_000 }) as TrainMessage;
      const client = (role: FleetMember['role']) =>
        new ClientBehaviour({ index: 0, seed: 1, member: { speedFactor: 1, vanishes: false, role }, indices: shard!.indices, trainExamples: shard!.indices.length, pool, clock: new FleetClock(), baseStepSeconds: 0.01, maxExamplesPerWorker: 777, clipRange: 0.001, vanish: () => undefined });
      const signal = new AbortController().signal;

      const zero = await client('zero').train(message(1), signal);
      expect(zero.examples).toBe(777);
      expect(zero.delta.every((v) => v === 0)).toBe(true);

      const honest = await client('honest').train(message(1), signal);
      const noise = await client('noise').train(message(1), signal);
      expect(noise.delta.every((v) => Math.abs(v) <= Math.fround(0.001))).toBe(true);
      expect(noise.delta.some((v) => v !== 0)).toBe(true);
      let dot = 0;
      for (let i = 0; i < honest.delta.length; i++) dot += honest.delta[i]! * noise.delta[i]!;
      expect(Math.abs(dot)).toBeLessThan(1e-2); // a random direction, not the honest one

      const flipped = await client('labelflip').train(message(1), signal);
      const flippedLabels = data.labelView.map((y) => (y + 1) % 10);
      setFlatWeights(model, weights);
      await trainLocally(model, new InMemoryDataset({ pixels: data.pixelView, labels: flippedLabels, indices: shard!.indices, inputShape: data.inputShape, numClasses: 10 }), config);
      const expected = await getFlatWeights(model);
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(weights[i]! + flipped.delta[i]! - expected[i]!));
      expect(maxDiff).toBeLessThan(1e-6);
      expect(flipped.delta).not.toEqual(honest.delta);

      const replay = client('replay');
      const first = await replay.train(message(1), signal);
      const second = await replay.train({ ...message(2), weights: weights.map((w) => w + 0.01) }, signal);
      expect(Array.from(second.delta)).toEqual(Array.from(first.delta));
      expect(second.examples).toBe(first.examples);
    } finally {
      await pool.close();
      model.dispose();
    }
  }, 90_000);
});
