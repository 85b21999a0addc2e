/**
 * Differential privacy through the engine: workers clip (and the coordinator adds central noise),
 * the accountant reports (ε, δ) after every round, and a run with an ε budget stops before the
 * round that would exceed it, and says so.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerClient } from '../../../core/worker/client.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { startCoordinator } from '../../../coordinator/app/start-coordinator.js';
import { connectInMemory } from '../../../coordinator/transport/in-memory-transport.js';
import { epsilonFor } from '../../../coordinator/privacy/rdp-accountant.js';
import { scratchDir } from '../../e2e/helpers.js';

describe('differential privacy in a run', () => {
  const dir = scratchDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const norms: number[] = [];

  it('clips on the workers, accounts every round, and stops before exceeding the ε budget', async () => {
    // Prepare: every worker takes part in every round (q = 1), σ = 2, so the budget allows a few rounds.
    const budget = epsilonFor({ q: 1, sigma: 2, steps: 3, delta: 1e-5 }).epsilon + 1e-9;
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 10,
        minClients: 3,
        roundTimeoutMs: 30_000,
        maxRoundRetries: 0,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'sgd',
        lr: 0.1,
        partition: { kind: 'iid', seed: 1 },
        seed: 1,
        evaluation: 'none',
        keepCheckpoints: 1,
        secureAggregation: false,
        privacy: { clipNorm: 0.5, noiseMultiplier: 2, noise: 'central', delta: 1e-5, epsilonBudget: budget },
      }),
      // Plain aggregation, so the test can see that every update left its worker clipped.
      observe: (_address, message) => {
        if (message.type === 'update') norms.push(Math.sqrt(message.delta.reduce((sum, x) => sum + x * x, 0)));
      },
    });
    const sessions = Array.from({ length: 3 }, () => {
      const wallet = new Wallet(Wallet.createRandom().privateKey);
      return new WorkerClient({
        url: 'memory://coordinator',
        kind: 'node',
        signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
        verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
        socketFactory: () => connectInMemory(coordinator.workers),
        hooks: {
          prepare: async () => ({ backend: { backend: 'simulated', reason: 'test' }, examples: 100 }),
          // A large update: the session must clip it to the round's clip norm before sending it.
          train: async (message) => ({ delta: new Float32Array(message.weights.length).fill(0.01), examples: 100, steps: 1, loss: 1, accuracy: 0, trainMs: 0 }),
        },
      });
    });
    const seen = new Promise<void>((resolve) => {
      coordinator.engine.on((e) => {
        if (e.type === 'round-completed') resolve();
      });
    });
    // Execute
    for (const s of sessions) s.start();
    await seen;
    const summary = await coordinator.done;
    await coordinator.close();

    // Assert: exactly the rounds the budget allows, the reason says why, and ε stays within it.
    expect(summary.rounds).toBe(3);
    expect(summary.reason).toMatch(/privacy budget reached/);
    expect(summary.privacy?.delta).toBe(1e-5);
    expect(summary.privacy?.epsilon).toBeLessThanOrEqual(budget);
    expect(summary.privacy?.epsilon).toBeCloseTo(epsilonFor({ q: 1, sigma: 2, steps: 3, delta: 1e-5 }).epsilon, 6);
    expect(norms).toHaveLength(9);
    for (const norm of norms) expect(norm).toBeLessThanOrEqual(0.5 * (1 + 1e-6));
  }, 60_000);
});
