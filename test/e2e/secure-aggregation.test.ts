/**
 * Secure aggregation over real sockets: a real coordinator, real WebSockets, real WebCrypto, and
 * four workers whose training is scripted so the test knows every private delta. The securely
 * aggregated model must equal the plaintext FedAvg over the survivors to within the quantization
 * bound, also when a worker drops out in the middle of the SecAgg+ stages.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSecAggConfig } from '../../core/secagg/config.js';
import { quantizationBound } from '../../core/secagg/quantize.js';
import type { SocketLike } from '../../core/worker/socket.js';
import { WorkerClient } from '../../core/worker/client.js';
import type { WorkerMessage } from '../../core/protocol/messages.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { scratchDir } from './helpers.js';

const WEIGHT_CAP = 1000;

function scriptedWorker(url: string, examples: number, seed: number, dropAtMaskedInput = false) {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const seen: { global?: Float32Array; delta?: Float32Array } = {};
  const session: WorkerClient = new WorkerClient({
    url,
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: (u) => new WebSocket(u) as unknown as SocketLike,
    reconnect: false,
    onEvent: (event) => {
      if (dropAtMaskedInput && event.kind === 'secagg' && event.stage === 'masked-input') void session.stop('scripted dropout');
    },
    hooks: {
      prepare: async () => ({ backend: { backend: 'scripted', reason: 'test' }, examples }),
      train: async (message) => {
        // A private, deterministic delta the test can recompute: small values, inside the clip range.
        const delta = new Float32Array(message.weights.length).map((_, i) => Math.sin(seed * 7.1 + i * 0.37) * 0.01);
        seen.global = message.weights.slice();
        seen.delta = delta;
        return { delta, examples, steps: 1, loss: 0.5, accuracy: 0.5, trainMs: 1 };
      },
    },
  });
  return { wallet, session, seen, examples };
}

describe('secure aggregation over real sockets', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function coordinatorFor(received: WorkerMessage[]): Promise<Coordinator> {
    const dir = scratchDir();
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      observe: (_a, m) => received.push(m),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 1,
        minClients: 3,
        clientsPerRound: 4,
        roundTimeoutMs: 60_000,
        maxRoundRetries: 0,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'adam',
        lr: 0.001,
        partition: { kind: 'iid', seed: 1 },
        seed: 1,
        evaluation: 'none',
        keepCheckpoints: 1,
        secureAggregation: { weightCap: WEIGHT_CAP, stageTimeoutMs: 20_000 },
      }),
    });
    cleanups.push(async () => {
      await coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return coordinator;
  }

  it.each([
    ['all four survive', false],
    ['one drops out after share keys', true],
  ])('the aggregate equals plaintext FedAvg within the quantization bound (%s)', async (_name, withDropout) => {
    // Prepare
    const received: WorkerMessage[] = [];
    const coordinator = await coordinatorFor(received);
    const workers = [100, 250, 400, 1000].map((examples, i) => scriptedWorker(coordinator.wsUrl, examples, i + 1, withDropout && i === 3));
    // Execute
    for (const w of workers) w.session.start();
    const summary = await coordinator.done;
    for (const w of workers) await w.session.stop();

    // Assert: the run completed and only the survivors contributed
    expect(summary.status).toBe('completed');
    expect(summary.secureAggregation).toBe(true);
    const survivors = withDropout ? workers.slice(0, 3) : workers;
    const contributors = coordinator.store.contributions(coordinator.engine.runId).map((c) => c.address).sort();
    expect(contributors).toEqual(survivors.map((w) => w.wallet.address).sort());

    // The coordinator never received an update: only declared metrics and SecAgg+ replies.
    expect(received.some((m) => m.type === 'update')).toBe(false);
    expect(received.filter((m) => m.type === 'trained')).toHaveLength(4);

    // Plaintext FedAvg over the survivors, weights min(examples, cap) / cap
    const global = survivors[0]!.seen.global!;
    const weights = survivors.map((w) => Math.min(w.examples, WEIGHT_CAP) / WEIGHT_CAP);
    const totalWeight = weights.reduce((a, b) => a + b, 0);
    const config = defaultSecAggConfig(4);
    const bound = quantizationBound({ clipRange: config.clipRange, bits: config.bits, contributors: survivors.length, maxWeight: 1 });
    const next = coordinator.engine.weights;
    let worst = 0;
    let allowed = 0;
    for (let i = 0; i < global.length; i++) {
      let sum = 0;
      survivors.forEach((w, k) => (sum += weights[k]! * w.seen.delta![i]!));
      const mean = sum / totalWeight;
      // |S'/W' − S/W| ≤ (eS + |S/W|·eW) / (W − eW), plus float32 rounding of the result
      const tolerance = (bound.perCoordinate + Math.abs(mean) * bound.totalWeight) / (totalWeight - bound.totalWeight) + Math.abs(global[i]! + mean) * 2 ** -23;
      const error = Math.abs(next[i]! - (global[i]! + mean));
      worst = Math.max(worst, error / tolerance);
      allowed = Math.max(allowed, tolerance);
    }
    expect(worst).toBeLessThanOrEqual(1);
    // …and the bound is tight enough to mean something: far below the deltas themselves.
    expect(allowed).toBeLessThan(0.001);
  }, 120_000);
});
