/**
 * Contribution scoring end to end over the in-memory twin (rewards.quality), by leave-one-group-out
 * losses and to first order on the held-out gradient: real SecAgg+
 * clients and server, real store. Ten workers, two of them freeloaders that declare the cap and
 * send a zero delta; the honest ones move the model toward a target, and the held-out loss is the
 * distance to it. Over the rounds the freeloaders' quality falls to nothing and their credited
 * work with it, while the honest workers are paid; the store holds every round's group scores
 * and every survivor's quality, and the model still equals FedAvg of everyone's deltas.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import type { RoundSummaryMessage, TrainMessage } from '../../../core/protocol/messages.js';
import { WorkerClient } from '../../../core/worker/client.js';
import { startCoordinator } from '../../../coordinator/app/start-coordinator.js';
import type { EngineEvent } from '../../../coordinator/engine/events.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { connectInMemory } from '../../../coordinator/transport/in-memory-transport.js';
import { eventually, scratchDir } from '../../e2e/helpers.js';

const WORKERS = 10;
const FREELOADERS = new Set([2, 7]);
const CAP = 100;
const ROUNDS = 8;

/** The target the honest workers pull toward: loss is the mean squared distance to it. */
function targetOf(length: number): Float32Array {
  return new Float32Array(length).map((_, i) => Math.sin(i * 0.37) * 0.2);
}

function honestDelta(worker: number, message: TrainMessage, target: Float32Array): Float32Array {
  // A quarter of the way to the target, with a little private noise.
  return new Float32Array(message.weights.length).map((_, i) => 0.25 * (target[i]! - message.weights[i]!) + Math.sin(worker * 5.1 + message.round * 2.3 + i) * 0.002);
}

function startWorker(i: number, registry: Parameters<typeof connectInMemory>[0], target: Float32Array): { wallet: Wallet; session: WorkerClient; summaries: RoundSummaryMessage[] } {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const summaries: RoundSummaryMessage[] = [];
  const session = new WorkerClient({
    url: 'memory://coordinator',
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: () => connectInMemory(registry),
    reconnect: false,
    onEvent: (event) => {
      if (event.kind === 'round') summaries.push(event.summary);
    },
    hooks: {
      prepare: async () => ({ backend: { backend: 'simulated', reason: 'test' }, examples: CAP }),
      train: async (message) => {
        const delta = FREELOADERS.has(i) ? new Float32Array(message.weights.length) : honestDelta(i, message, target);
        return { delta, examples: CAP, steps: 1, loss: 0.5, accuracy: 0.5, trainMs: 1 };
      },
    },
  });
  return { wallet, session, summaries };
}

describe('scored rounds (rewards.quality)', () => {
  const dir = scratchDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Scored by leave-one-group-out losses (an evaluator without a gradient), to first order (with
  // one), and against a reference update (an evaluator that can train: the honest direction, on data of its own).
  it.each([
    ['leave-one-group-out losses', 'loss'],
    ['first-order marginals', 'gradient'],
    ['a reference update', 'reference'],
  ] as const)('pays the honest workers and starves two freeloaders, with every group score stored (%s)', async (_name, scoring) => {
    const withGradient = scoring === 'gradient';
    // Prepare: 2NN-sized weights, but the loss is the squared distance to a fixed target
    let target: Float32Array = new Float32Array(0);
    const gradient = (weights: Float32Array): Promise<Float32Array> => Promise.resolve(weights.map((w, i) => (2 * (w - target[i]!)) / weights.length));
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, `scored-${scoring}.sqlite`),
      evaluator: {
        evaluate: async (weights) => {
          let sum = 0;
          for (let i = 0; i < weights.length; i++) sum += (weights[i]! - target[i]!) ** 2;
          return { loss: sum / weights.length, accuracy: 0 };
        },
        ...(withGradient ? { lossGradient: gradient } : {}),
        ...(scoring === 'reference'
          ? { referenceUpdate: (weights: Float32Array) => Promise.resolve(weights.map((w, i) => 0.25 * (target[i]! - w) + Math.cos(i * 0.7) * 0.002)) }
          : {}),
      },
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: ROUNDS,
        minClients: WORKERS,
        clientsPerRound: WORKERS,
        overSelect: 1,
        roundTimeoutMs: 60_000,
        maxRoundRetries: 0,
        localEpochs: 1,
        batchSize: 10,
        optimizer: 'sgd',
        lr: 0.1,
        maxExamplesPerWorker: CAP,
        partition: { kind: 'iid', seed: 1 },
        seed: 3,
        evaluation: 'mnist',
        keepCheckpoints: 2,
        secureAggregation: { weightCap: CAP, stageTimeoutMs: 20_000 },
        quality: { minGroupSize: 3, margin: 1, floor: 0.25 },
      }),
    });
    target = targetOf(coordinator.engine.parameterCount);
    const events: EngineEvent[] = [];
    coordinator.engine.on((e) => events.push(e));
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(i, coordinator.workers, target));

    // Execute
    for (const w of workers) w.session.start();
    const summary = await coordinator.done;
    // Frames are delivered asynchronously: let every worker hear the last round before leaving.
    await eventually(() => (workers.every((w) => w.summaries.filter((m) => m.status === 'completed').length === ROUNDS) ? true : undefined), 10_000, 10);
    for (const w of workers) await w.session.stop();
    const contributions = coordinator.store.contributions(coordinator.engine.runId);
    const groups = coordinator.store.quality.groupScores(coordinator.engine.runId);
    const qualities = coordinator.store.quality.workerQuality(coordinator.engine.runId);
    await coordinator.close();

    // Assert: every round scored three groups (10 survivors, groups of at least 3) covering everyone once
    expect(summary.status).toBe('completed');
    for (let round = 1; round <= ROUNDS; round++) {
      const ofRound = groups.filter((g) => g.round === round);
      expect(ofRound.map((g) => g.members.length).sort()).toEqual([3, 3, 4]);
      expect(new Set(ofRound.flatMap((g) => g.members)).size).toBe(WORKERS);
      expect(qualities.filter((q) => q.round === round)).toHaveLength(WORKERS);
    }
    // Groups are reshuffled: not every round has the same split
    const splits = new Set(Array.from({ length: ROUNDS }, (_, r) => JSON.stringify(groups.filter((g) => g.round === r + 1).map((g) => [...g.members].sort()).sort())));
    expect(splits.size).toBeGreaterThan(1);

    // The freeloaders' credited work over the run is a small fraction of an honest worker's
    const isFreeloader = new Set(workers.filter((_, i) => FREELOADERS.has(i)).map((w) => w.wallet.address));
    const credited = (address: string) => contributions.filter((c) => c.address === address).reduce((s, c) => s + c.amount, 0);
    const honest = workers.filter((w) => !isFreeloader.has(w.wallet.address)).map((w) => credited(w.wallet.address));
    const freeloaders = [...isFreeloader].map(credited);
    const meanHonest = honest.reduce((a, b) => a + b, 0) / honest.length;
    expect(meanHonest).toBeGreaterThan(0);
    for (const f of freeloaders) expect(f).toBeLessThan(meanHonest / 10);
    // … because the estimator rates them below every honest worker by the last round
    const last = qualities.filter((q) => q.round === ROUNDS);
    const estimateOf = (address: string) => last.find((q) => q.address === address)!.estimate;
    const worstHonest = Math.min(...workers.filter((w) => !isFreeloader.has(w.wallet.address)).map((w) => estimateOf(w.wallet.address)));
    for (const f of isFreeloader) expect(estimateOf(f)).toBeLessThan(worstHonest);
    // Each worker heard its own quality in every round summary, the same the store holds
    for (const w of workers) {
      const heard = w.summaries.filter((s) => s.status === 'completed');
      expect(heard).toHaveLength(ROUNDS);
      const mine = last.find((q) => q.address === w.wallet.address)!;
      expect(heard.at(-1)!.quality).toEqual({ estimate: mine.estimate, confidence: mine.confidence, factor: mine.factor, flagged: mine.flagged });
    }
    // The model still trained: the loss fell toward the target
    const completed = events.filter((e): e is Extract<EngineEvent, { type: 'round-completed' }> => e.type === 'round-completed');
    expect(completed.at(-1)!.loss!).toBeLessThan(completed[0]!.loss! / 2);
  }, 120_000);
});
