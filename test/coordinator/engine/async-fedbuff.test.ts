/**
 * Asynchronous buffered aggregation (issue 10.3), engine-level over the in-memory twin: nine
 * workers, three of them ten times slower, bufferSize 3 with no over-selection, so groups of
 * three, formed from whoever is free, train concurrently. Plain and SecAgg+ (each group its own
 * SecAgg+ instance). Every worker's delta is fixed, so the final model can be rebuilt from the
 * store and the events alone: each version adds its group's FedAvg delta × 1/√(1 + staleness) to
 * the model before it. Some groups are stale; none is staler than maxStaleness; an update for a
 * group the coordinator never formed is refused with E_UPDATE_STALE.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSecAggConfig } from '../../../core/secagg/config.js';
import { quantizationBound } from '../../../core/secagg/quantize.js';
import { WorkerClient } from '../../../core/worker/client.js';
import { startCoordinator } from '../../../coordinator/app/start-coordinator.js';
import type { EngineEvent } from '../../../coordinator/engine/events.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import type { WorkerChannel } from '../../../coordinator/transport/channel.js';
import { connectInMemory } from '../../../coordinator/transport/in-memory-transport.js';
import { eventually, scratchDir } from '../../e2e/helpers.js';

const WORKERS = 9;
const SLOW = new Set([6, 7, 8]);
const CAP = 100;
const VERSIONS = 8;

/** Worker i's delta: the same every time, well inside the clip range. */
function deltaOf(worker: number, length: number): Float32Array {
  return new Float32Array(length).map((_, j) => Math.sin(worker * 1.7 + j * 0.31) * 0.01);
}

function startWorker(i: number, registry: Parameters<typeof connectInMemory>[0], length: () => number): { wallet: Wallet; session: WorkerClient } {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const session = new WorkerClient({
    url: 'memory://coordinator',
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: () => connectInMemory(registry),
    reconnect: false,
    hooks: {
      prepare: async () => ({ backend: { backend: 'simulated', reason: 'test' }, examples: CAP }),
      train: (_message, signal) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => resolve({ delta: deltaOf(i, length()), examples: CAP, steps: 1, loss: 0.5, accuracy: 0.5, trainMs: 1 }), SLOW.has(i) ? 200 : 20);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        }),
    },
  });
  return { wallet, session };
}

describe('asynchronous buffered aggregation (mode: async)', () => {
  const dir = scratchDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['plain', false],
    ['SecAgg+', true],
  ])('applies each group as a staleness-weighted version (%s)', async (name, secure) => {
    // Prepare
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, `async-${name}.sqlite`),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        mode: 'async',
        bufferSize: 3,
        maxStaleness: 4,
        rounds: VERSIONS,
        minClients: 3,
        overSelect: 1,
        roundTimeoutMs: 60_000,
        maxRoundRetries: 2,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'sgd',
        lr: 0.1,
        maxExamplesPerWorker: CAP,
        partition: { kind: 'iid', seed: 1 },
        seed: 5,
        evaluation: 'none',
        keepCheckpoints: 2,
        secureAggregation: secure ? { weightCap: CAP, stageTimeoutMs: 20_000 } : false,
      }),
    });
    const events: EngineEvent[] = [];
    coordinator.engine.on((e) => events.push(e));
    const initial = coordinator.engine.weights.slice();
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(i, coordinator.workers, () => initial.length));

    // Execute
    coordinator.engine.pause();
    for (const w of workers) w.session.start();
    await eventually(() => (coordinator.engine.readyCount() === WORKERS ? true : undefined), 10_000, 10);
    coordinator.engine.resume();
    await eventually(() => (events.some((e) => e.type === 'round-completed') ? true : undefined), 30_000, 10);
    const channel = { address: workers[0]!.wallet.address, sessionId: 'test' } as unknown as WorkerChannel;
    const never = () => coordinator.engine.onUpdate(channel, { type: 'update', runId: coordinator.engine.runId, round: 9_999, delta: new Float32Array(initial.length), examples: 1, steps: 1, loss: 0, accuracy: 0, trainMs: 1 });
    const summary = await coordinator.done;
    for (const w of workers) await w.session.stop();
    const contributions = coordinator.store.contributions(coordinator.engine.runId);
    const final = coordinator.engine.weights.slice();
    const metrics = await coordinator.metrics.render();
    await coordinator.close();

    // Assert: every version committed, each with its group's staleness, some of them stale
    expect(summary.status).toBe('completed');
    const versions = events.filter((e): e is Extract<EngineEvent, { type: 'round-completed' }> => e.type === 'round-completed');
    expect(versions.map((v) => v.round)).toEqual(Array.from({ length: VERSIONS }, (_, i) => i + 1));
    const staleness = versions.map((v) => v.staleness ?? -1);
    expect(Math.min(...staleness)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...staleness)).toBeGreaterThan(0);
    expect(Math.max(...staleness)).toBeLessThanOrEqual(4);
    // Groups ran concurrently: more groups started than had finished by some version
    expect(events.filter((e) => e.type === 'round-started').length).toBeGreaterThan(VERSIONS);
    expect(metrics).toMatch(new RegExp(`^cohort_version_staleness_count ${VERSIONS}$`, 'm'));
    expect(never).toThrow(expect.objectContaining({ code: 'E_UPDATE_STALE', message: expect.stringContaining('no group 9999 is open') }));

    // The model is x0 + Σ_v Δ_v / √(1 + s_v), Δ_v the FedAvg delta of version v's contributors
    const index = new Map(workers.map((w, i) => [w.wallet.address, i]));
    const expected = Float64Array.from(initial);
    for (const v of versions) {
      const members = contributions.filter((c) => c.round === v.round).map((c) => index.get(c.address)!);
      expect(members.length).toBe(3);
      const weight = 1 / Math.sqrt(1 + v.staleness!);
      for (const m of members) deltaOf(m, initial.length).forEach((d, j) => (expected[j]! += (weight * d) / members.length));
    }
    const q = defaultSecAggConfig(3);
    const perVersion = secure ? quantizationBound({ clipRange: q.clipRange, bits: q.bits, contributors: 3, maxWeight: 1 }).perCoordinate / 3 : 0;
    let worst = 0;
    for (let j = 0; j < final.length; j++) worst = Math.max(worst, Math.abs(final[j]! - expected[j]!));
    expect(worst).toBeLessThanOrEqual(VERSIONS * perVersion * 1.01 + 1e-6);
  }, 60_000);
});
