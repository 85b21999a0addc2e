/**
 * The in-memory twin of the WebSocket: simulated workers (WorkerClient over connectInMemory)
 * sign in, train and take part in secure aggregation through the same WorkerRegistry as real ones.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerClient } from '../../../core/worker/client.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { startCoordinator } from '../../../coordinator/app/start-coordinator.js';
import { connectInMemory } from '../../../coordinator/transport/in-memory-transport.js';
import { scratchDir } from '../../e2e/helpers.js';

describe('in-memory worker transport', () => {
  const dir = scratchDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a securely aggregated round with simulated workers', async () => {
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 2,
        minClients: 5,
        roundTimeoutMs: 30_000,
        maxRoundRetries: 0,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'sgd',
        lr: 0.1,
        // Every worker holds the most examples the run credits, so every SecAgg+ weight is 1.
        maxExamplesPerWorker: 100,
        partition: { kind: 'iid', seed: 1 },
        seed: 1,
        evaluation: 'none',
        keepCheckpoints: 1,
      }),
    });
    const sessions = Array.from({ length: 5 }, (_, i) => {
      const wallet = new Wallet(Wallet.createRandom().privateKey);
      return new WorkerClient({
        url: 'memory://coordinator',
        kind: 'node',
        signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
        verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
        socketFactory: () => connectInMemory(coordinator.workers),
        hooks: {
          prepare: async () => ({ backend: { backend: 'simulated', reason: 'test' }, examples: 100 }),
          train: async (message) => ({ delta: new Float32Array(message.weights.length).fill(0.001 * (i + 1)), examples: 100, steps: 1, loss: 1, accuracy: 0, trainMs: 0 }),
        },
      });
    });
    const before = coordinator.engine.weights.slice();
    for (const s of sessions) s.start();
    const summary = await coordinator.done;
    await coordinator.close();

    expect(summary.status).toBe('completed');
    expect(summary.rounds).toBe(2);
    expect(summary.secureAggregation).toBe(true);
    // Equal weights: each round moves every weight by the mean delta, 0.003, within quantization.
    const moved = coordinator.engine.weights[0]! - before[0]!;
    expect(moved).toBeCloseTo(0.006, 3);
  }, 60_000);
});
