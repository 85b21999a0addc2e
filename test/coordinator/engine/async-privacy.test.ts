/**
 * Differential privacy in mode "async" (issue 10.3): every group whose sum is noised is one
 * sampling event at q = 1, groups still training count against the ε budget before a new one
 * may start, and the run stops before the version that would exceed it. The accountant's state
 * is kept in the store, so a coordinator restarted mid-run goes on from the ε already spent
 * instead of starting again at 0. Engine-level, over the in-memory twin.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerClient } from '../../../core/worker/client.js';
import { startCoordinator } from '../../../coordinator/app/start-coordinator.js';
import type { EngineEvent } from '../../../coordinator/engine/events.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import type { PrivacyState } from '../../../coordinator/engine/run-privacy.js';
import { epsilonFor } from '../../../coordinator/privacy/rdp-accountant.js';
import { connectInMemory } from '../../../coordinator/transport/in-memory-transport.js';
import { eventually, scratchDir } from '../../e2e/helpers.js';

const WORKERS = 6;
const SIGMA = 2;
const DELTA = 1e-5;
const budgetFor = (groups: number) => epsilonFor({ q: 1, sigma: SIGMA, steps: groups, delta: DELTA }).epsilon + 1e-9;

function config(secure: boolean, groups: number) {
  return parseRunConfig({
    model: { kind: 'builtin', name: '2nn' },
    mode: 'async',
    bufferSize: 3,
    overSelect: 1,
    rounds: 50,
    minClients: 3,
    roundTimeoutMs: 60_000,
    maxRoundRetries: 2,
    localEpochs: 1,
    batchSize: 32,
    optimizer: 'sgd',
    lr: 0.1,
    partition: { kind: 'iid', seed: 1 },
    seed: 3,
    evaluation: 'none',
    keepCheckpoints: 2,
    secureAggregation: secure ? { stageTimeoutMs: 20_000 } : false,
    privacy: { clipNorm: 0.5, noiseMultiplier: SIGMA, noise: 'central', delta: DELTA, epsilonBudget: budgetFor(groups) },
  });
}

function startWorkers(registry: Parameters<typeof connectInMemory>[0]): WorkerClient[] {
  return Array.from({ length: WORKERS }, (_, i) => {
    const wallet = new Wallet(Wallet.createRandom().privateKey);
    const session = new WorkerClient({
      url: 'memory://coordinator',
      kind: 'node',
      signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
      verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
      socketFactory: () => connectInMemory(registry),
      reconnect: false,
      hooks: {
        prepare: async () => ({ backend: { backend: 'simulated', reason: 'test' }, examples: 100 }),
        // Far above the clip norm: the session must clip it before it is summed.
        train: (message, signal) =>
          new Promise((resolve, reject) => {
            const timer = setTimeout(() => resolve({ delta: new Float32Array(message.weights.length).fill(0.01 * (i + 1)), examples: 100, steps: 1, loss: 1, accuracy: 0, trainMs: 1 }), 10 + 15 * i);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason);
            });
          }),
      },
    });
    session.start();
    return session;
  });
}

const spentSteps = (state: unknown): number => (state as PrivacyState).history.reduce((n, e) => n + e.steps, 0);

describe('differential privacy in mode "async"', () => {
  const dir = scratchDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['plain', false],
    ['SecAgg+', true],
  ])('accounts each group at q = 1 and stops before the version that would exceed the budget (%s)', async (name, secure) => {
    // Prepare: a budget of exactly 4 groups at q = 1, σ = 2; 6 workers form 2 groups at a time.
    const norms: number[] = [];
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, `budget-${name}.sqlite`),
      config: config(secure, 4),
      observe: (_address, message) => {
        if (message.type === 'update') norms.push(Math.sqrt(message.delta.reduce((sum, x) => sum + x * x, 0)));
      },
    });
    const started: EngineEvent[] = [];
    coordinator.engine.on((e) => {
      if (e.type === 'round-started') started.push(e);
    });

    // Execute
    const sessions = startWorkers(coordinator.workers);
    const summary = await coordinator.done;
    for (const s of sessions) await s.stop();
    const stored = coordinator.store.privacyState(coordinator.engine.runId);
    await coordinator.close();

    // Assert: four versions, the fifth refused for the budget, ε that of exactly four groups.
    expect(summary.status).toBe('completed');
    expect(summary.reason).toMatch(/^stopped before version 5: privacy budget reached/);
    expect(summary.rounds).toBe(4);
    expect(started.length).toBe(4); // no group was started that the budget could not pay for
    expect(spentSteps(stored)).toBe(4);
    expect(summary.privacy!.epsilon).toBeCloseTo(epsilonFor({ q: 1, sigma: SIGMA, steps: 4, delta: DELTA }).epsilon, 9);
    expect(summary.privacy!.epsilon).toBeLessThanOrEqual(budgetFor(4));
    if (!secure) {
      expect(norms.length).toBeGreaterThanOrEqual(12);
      expect(Math.max(...norms)).toBeLessThanOrEqual(0.5 * (1 + 1e-5));
    }
  }, 60_000);

  it('goes on from the ε already spent when the coordinator is restarted mid-run', async () => {
    // Prepare: a budget of 6 groups; the first coordinator is shut down after two versions.
    const storePath = join(dir, 'resume.sqlite');
    const first = await startCoordinator({ host: '127.0.0.1', port: 0, storePath, config: config(true, 6) });
    const runId = first.engine.runId;
    const firstSessions = startWorkers(first.workers);
    await eventually(() => (first.store.lastCompletedRound(runId) >= 2 ? true : undefined), 30_000, 10);
    await first.close();
    for (const s of firstSessions) await s.stop();

    // Execute: a new coordinator on the same store resumes the run.
    const second = await startCoordinator({ host: '127.0.0.1', port: 0, storePath, config: config(true, 6) });
    const carried = spentSteps(second.store.privacyState(runId));
    const resumedAfter = second.resumedAfterRound;
    const secondSessions = startWorkers(second.workers);
    const summary = await second.done;
    for (const s of secondSessions) await s.stop();
    const spent = spentSteps(second.store.privacyState(runId));
    await second.close();

    // Assert: the restart carried the spent groups over (at least the committed versions), and the
    // whole run, both coordinators together, never spent more than the budget's 6 groups.
    expect(second.engine.runId).toBe(runId);
    expect(resumedAfter).toBeGreaterThanOrEqual(2);
    expect(carried).toBeGreaterThanOrEqual(resumedAfter);
    expect(summary.reason).toMatch(/privacy budget reached/);
    expect(spent).toBe(6);
    expect(summary.rounds).toBeLessThanOrEqual(6);
    expect(summary.privacy!.epsilon).toBeCloseTo(epsilonFor({ q: 1, sigma: SIGMA, steps: 6, delta: DELTA }).epsilon, 9);
  }, 90_000);
});
