/**
 * Capability-aware work (issue 10.2) through real rounds over the in-memory twin, plain and with
 * the real SecAgg+ server and clients: four workers that report different benchmark speeds get
 * their own maxLocalSteps under targetRoundSeconds, and the new model is FedNova's
 *   global + τ_eff · Σ pᵢ·(dᵢ/τᵢ) / Σ pᵢ,   τ_eff = Σ pᵢτᵢ / Σ pᵢ,
 * with pᵢ the data shares (not the steps), τᵢ the declared steps capped at the assigned ones. One
 * worker over-declares (steps and examples): it counts for its assigned steps only, in τ_eff and in
 * the credited contribution.
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

const EXAMPLES = [640, 640, 320, 960];
/** Benchmarks: at a 0.1 s target they ask for 10, 5, 2 and 40 steps. */
const SPEEDS = [100, 50, 20, 400];
const BATCH = 32;
const CAP = 1_000;
/** What their data allows, one epoch of ⌈examples ÷ 32⌉ steps: 20, 20, 10, 30. */
const FIRST_ROUND_STEPS = [10, 5, 2, 30];
const LIAR = 3;

/** Worker i's per-step direction gᵢ for a round: its delta after τ steps is τ·gᵢ. */
function direction(worker: number, message: TrainMessage): Float32Array {
  return new Float32Array(message.weights.length).map((_, i) => Math.sin(worker * 3.7 + message.round * 1.3 + i * 0.11) * 0.01);
}

interface SimWorker {
  wallet: Wallet;
  session: WorkerClient;
  events: WorkerEvent[];
  trains: TrainMessage[];
}

function simWorker(i: number, workers: Parameters<typeof connectInMemory>[0]): SimWorker {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const w: SimWorker = { wallet, session: undefined as unknown as WorkerClient, events: [], trains: [] };
  w.session = new WorkerClient({
    url: 'memory://coordinator',
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: () => connectInMemory(workers),
    reconnect: false,
    onEvent: (event) => w.events.push(event),
    hooks: {
      prepare: async () => ({ backend: { backend: 'simulated', reason: 'test', stepsPerSecond: SPEEDS[i]! }, examples: EXAMPLES[i]! }),
      train: async (message) => {
        w.trains.push(message);
        const assigned = message.config.maxLocalSteps!;
        // The liar claims far more steps and examples than it was given (and scales its delta to match).
        const steps = i === LIAR ? 1_000 : assigned;
        const delta = direction(i, message).map((g) => g * steps);
        const examples = i === LIAR ? 50_000 : Math.min(EXAMPLES[i]!, steps * BATCH);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { delta, examples, steps, loss: 0.5, accuracy: 0.5, trainMs: 1 };
      },
    },
  });
  return w;
}

describe('capability-aware work under targetRoundSeconds', () => {
  const dir = scratchDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['plain', false],
    ['SecAgg+', true],
  ])('gives each worker its own steps and aggregates with FedNova (%s)', async (name, secure) => {
    // Prepare
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, `${name}.sqlite`),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 2,
        minClients: 4,
        overSelect: 1,
        targetRoundSeconds: 0.1,
        roundTimeoutMs: 120_000,
        maxRoundRetries: 0,
        localEpochs: 1,
        batchSize: BATCH,
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
    const globals: Float32Array[] = [coordinator.engine.weights.slice()];
    // /metrics as the last round completes, while every worker is still connected (prom-client's collect runs at once).
    let metricsAtEnd: Promise<string> | undefined;
    coordinator.engine.on((e) => {
      events.push(e);
      if (e.type === 'round-completed') globals.push(coordinator.engine.weights.slice());
      if (e.type === 'round-completed' && e.round === 2) metricsAtEnd = coordinator.metrics.render();
    });
    const workers = [0, 1, 2, 3].map((i) => simWorker(i, coordinator.workers));

    // Execute
    for (const w of workers) w.session.start();
    const summary = await coordinator.done;
    await eventually(() => (workers.every((w) => w.events.some((e) => e.kind === 'run-end')) ? true : undefined), 10_000, 10);
    for (const w of workers) await w.session.stop();
    const metrics = await metricsAtEnd!;
    const contributions = coordinator.store.contributions(coordinator.engine.runId);
    await coordinator.close();

    // Assert: round 1's steps come from the benchmarks, clamped to what each worker's data allows
    expect(summary.status).toBe('completed');
    expect(workers.map((w) => w.trains[0]!.config.maxLocalSteps)).toEqual(FIRST_ROUND_STEPS);
    expect(workers.map((w) => w.trains[0]!.config.fedNova)).toEqual(EXAMPLES.map((n) => ({ weightExamples: Math.min(n, CAP) })));
    // Round 2's come from the measured round 1 (in memory: fast), still within [1, allowed]
    for (const [i, w] of workers.entries()) {
      const steps = w.trains[1]!.config.maxLocalSteps!;
      expect(steps).toBeGreaterThanOrEqual(1);
      expect(steps).toBeLessThanOrEqual(Math.ceil(EXAMPLES[i]! / BATCH));
    }
    const assigned = events.filter((e): e is Extract<EngineEvent, { type: 'work-assigned' }> => e.type === 'work-assigned');
    expect(assigned.map((e) => e.round)).toEqual([1, 2]);
    const byAddress = new Map(assigned[1]!.workers.map((w) => [w.address, w]));
    for (const w of workers) {
      const last = byAddress.get(w.wallet.address)!;
      expect(metrics).toContain(`cohort_worker_assigned_steps{address="${w.wallet.address}"} ${last.maxLocalSteps}`);
      expect(metrics).toMatch(new RegExp(`^cohort_worker_speed_steps_per_second\\{address="${w.wallet.address}"\\} [0-9.e+]+$`, 'm'));
    }
    // The liar is credited for its assigned steps × batch size, not its claim
    for (const round of [1, 2]) {
      const liar = contributions.find((c) => c.round === round && c.address === workers[LIAR]!.wallet.address)!;
      expect(liar.examples).toBe(workers[LIAR]!.trains[round - 1]!.config.maxLocalSteps! * BATCH);
    }

    // The new model is FedNova's (float32 rounding for plain rounds; within the quantization bound under SecAgg+)
    for (const round of [1, 2]) {
      const global = globals[round - 1]!;
      const next = globals[round]!;
      const trains = workers.map((w) => w.trains[round - 1]!);
      const p = EXAMPLES.map((n) => (secure ? Math.min(n, CAP) / CAP : Math.min(n, CAP)));
      const tau = trains.map((t) => t.config.maxLocalSteps!);
      const total = p.reduce((a, b) => a + b, 0);
      const tauEff = p.reduce((n, pi, i) => n + pi * tau[i]!, 0) / total;
      const g = trains.map((t, i) => direction(i, t));
      const bound = secure
        ? quantizationBound({ clipRange: defaultSecAggConfig(4).clipRange, bits: defaultSecAggConfig(4).bits, contributors: 4, maxWeight: 1 })
        : { perCoordinate: 0, totalWeight: 0 };
      let worst = 0;
      for (let c = 0; c < global.length; c++) {
        let sum = 0;
        let sumAbs = 0;
        for (let i = 0; i < 4; i++) {
          sum += p[i]! * g[i]![c]!;
          sumAbs += Math.abs(p[i]! * g[i]![c]!);
        }
        const expected = (tauEff * sum) / total;
        const rounding = ((tauEff * sumAbs) / total + Math.abs(global[c]!) + Math.abs(expected)) * 2 ** -20;
        const tolerance = (tauEff * (bound.perCoordinate + (Math.abs(sum) / total) * bound.totalWeight)) / (total - bound.totalWeight) + rounding;
        worst = Math.max(worst, Math.abs(next[c]! - (global[c]! + expected)) / tolerance);
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
  }, 30_000);
});
