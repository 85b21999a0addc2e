/**
 * Over-selection with early close (issue 10.1), engine-level over the in-memory twin: a run with
 * clientsPerRound 3 and overSelect 1.3 selects all 4 workers, closes each round with the first 3
 * results, and cancels the fourth, which is still training. Plain and SecAgg+; under SecAgg+ the
 * cut worker is an ordinary dropout whose masks unmask removes, and the aggregate must equal the
 * plaintext FedAvg of the three survivors within the quantization bound.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainMessage } from '../../../core/protocol/messages.js';
import { defaultSecAggConfig } from '../../../core/secagg/config.js';
import { quantizationBound } from '../../../core/secagg/quantize.js';
import { WorkerClient, type WorkerEvent } from '../../../core/worker/client.js';
import { startCoordinator } from '../../../coordinator/app/start-coordinator.js';
import type { EngineEvent } from '../../../coordinator/engine/events.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { connectInMemory } from '../../../coordinator/transport/in-memory-transport.js';
import { eventually, scratchDir } from '../../e2e/helpers.js';

const EXAMPLES = [100, 60, 30, 80];
const CAP = 100;

/** A private, deterministic delta per worker and round, well inside the clip range. */
function deltaOf(worker: number, message: TrainMessage): Float32Array {
  return new Float32Array(message.weights.length).map((_, i) => Math.sin(worker * 3.7 + message.round * 1.3 + i * 0.11) * 0.01);
}

interface SimWorker {
  wallet: Wallet;
  session: WorkerClient;
  events: WorkerEvent[];
  /** Rounds whose training saw its signal aborted. */
  aborted: number[];
  /** Deltas this worker computed, by round. */
  deltas: Map<number, Float32Array>;
}

/** Worker 3 is the straggler: its training only ends when it is aborted (cancelled). */
function simWorker(i: number, workers: Parameters<typeof connectInMemory>[0]): SimWorker {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const w: SimWorker = { wallet, session: undefined as unknown as WorkerClient, events: [], aborted: [], deltas: new Map() };
  w.session = new WorkerClient({
    url: 'memory://coordinator',
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: () => connectInMemory(workers),
    reconnect: false,
    onEvent: (event) => w.events.push(event),
    hooks: {
      prepare: async () => ({ backend: { backend: 'simulated', reason: 'test' }, examples: EXAMPLES[i]! }),
      train: (message, signal) =>
        new Promise((resolve, reject) => {
          const delta = deltaOf(i, message);
          const result = { delta, examples: EXAMPLES[i]!, steps: 1, loss: 0.5, accuracy: 0.5, trainMs: 1 };
          if (i !== 3) {
            w.deltas.set(message.round, delta);
            return void setTimeout(() => resolve(result), 5);
          }
          signal.addEventListener('abort', () => {
            w.aborted.push(message.round);
            reject(signal.reason);
          });
        }),
    },
  });
  return w;
}

describe('over-selection with early close', () => {
  const dir = scratchDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['plain', false],
    ['SecAgg+', true],
  ])('closes each round with clientsPerRound results and cancels the straggler (%s)', async (name, secure) => {
    // Prepare
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, `${name}.sqlite`),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 2,
        minClients: 3,
        clientsPerRound: 3,
        overSelect: 1.3,
        roundTimeoutMs: 120_000,
        maxRoundRetries: 0,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'sgd',
        lr: 0.1,
        maxExamplesPerWorker: CAP,
        partition: { kind: 'iid', seed: 1 },
        seed: 1,
        evaluation: 'none',
        keepCheckpoints: 3,
        secureAggregation: secure ? { weightCap: CAP, stageTimeoutMs: 20_000 } : false,
      }),
    });
    const events: EngineEvent[] = [];
    coordinator.engine.on((e) => events.push(e));
    const workers = [0, 1, 2, 3].map((i) => simWorker(i, coordinator.workers));

    // Execute
    const globals: Float32Array[] = [coordinator.engine.weights.slice()];
    coordinator.engine.on((e) => {
      if (e.type === 'round-completed') globals.push(coordinator.engine.weights.slice());
    });
    // Paused until all 4 are ready: a round starts as soon as 3 are, and should select all 4.
    const straggler = workers[3]!;
    coordinator.engine.pause();
    for (const w of workers) w.session.start();
    await eventually(() => (coordinator.engine.readyCount() === 4 ? true : undefined), 10_000, 10);
    coordinator.engine.resume();
    const summary = await coordinator.done;
    // Frames are delivered asynchronously: let every worker hear the run end before leaving.
    await eventually(() => (workers.every((w) => w.events.some((e) => e.kind === 'run-end')) ? true : undefined), 10_000, 10);
    for (const w of workers) await w.session.stop();
    const metrics = await coordinator.metrics.render();
    const contributions = coordinator.store.contributions(coordinator.engine.runId);
    await coordinator.close();

    // Assert: both rounds completed with the three fast workers only
    expect(summary.status).toBe('completed');
    const started = events.filter((e): e is Extract<EngineEvent, { type: 'round-started' }> => e.type === 'round-started');
    expect(started.map((e) => e.selected.length)).toEqual([4, 4]);
    const completed = events.filter((e): e is Extract<EngineEvent, { type: 'round-completed' }> => e.type === 'round-completed');
    expect(completed.map((e) => [e.participants, e.stragglersCut, e.dropped.length])).toEqual([
      [3, 1, 0],
      [3, 1, 0],
    ]);
    const fast = workers.slice(0, 3);
    for (const round of [1, 2]) {
      const contributors = contributions.filter((c) => c.round === round).map((c) => c.address).sort();
      expect(contributors).toEqual(fast.map((w) => w.wallet.address).sort());
    }
    // The straggler was told, and its training stopped for each round
    expect(straggler.aborted).toEqual([1, 2]);
    expect(straggler.events.filter((e) => e.kind === 'cancelled').map((e) => (e as { round: number }).round)).toEqual([1, 2]);
    expect(straggler.events.some((e) => e.kind === 'submitted')).toBe(false);
    expect(metrics).toMatch(/^cohort_round_stragglers_cut_total 2$/m);
    expect(metrics).toMatch(/^cohort_worker_dropouts_total 0$/m);

    // The new model is FedAvg over the survivors (exact for plain rounds up to float32; within the quantization bound under SecAgg+)
    for (const round of [1, 2]) {
      const global = globals[round - 1]!;
      const next = globals[round]!;
      const weights = fast.map((_, i) => (secure ? Math.min(EXAMPLES[i]!, CAP) / CAP : EXAMPLES[i]!));
      const total = weights.reduce((a, b) => a + b, 0);
      const bound = secure
        ? quantizationBound({ clipRange: defaultSecAggConfig(4).clipRange, bits: defaultSecAggConfig(4).bits, contributors: 3, maxWeight: 1 })
        : { perCoordinate: 0, totalWeight: 0 };
      let worst = 0;
      for (let c = 0; c < global.length; c++) {
        let sum = 0;
        let sumAbs = 0;
        fast.forEach((w, k) => {
          sum += weights[k]! * w.deltas.get(round)![c]!;
          sumAbs += Math.abs(weights[k]! * w.deltas.get(round)![c]!);
        });
        const mean = sum / total;
        // Quantization (SecAgg+), plus float32 rounding of the running sum and of the result.
        const rounding = (sumAbs / total + Math.abs(global[c]!) + Math.abs(mean)) * 2 ** -21;
        const tolerance = (bound.perCoordinate + Math.abs(mean) * bound.totalWeight) / (total - bound.totalWeight) + rounding;
        worst = Math.max(worst, Math.abs(next[c]! - (global[c]! + mean)) / tolerance);
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
  }, 20_000);
});
