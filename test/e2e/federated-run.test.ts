/**
 * Whole runs over real sockets: a coordinator and worker processes on 127.0.0.1, real SQLite,
 * real MNIST shards, real tfjs training.
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerMessage } from '../../core/protocol/messages.js';
import { updateSchema } from '../../core/protocol/messages.js';
import { parseRunConfig, type RunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator } from '../../coordinator/app/start-coordinator.js';
import { freePort, scratchDir, spawnCohort, type CohortProcess } from './helpers.js';

const baseConfig = (overrides: Partial<RunConfig>): RunConfig =>
  parseRunConfig({
    model: { kind: 'builtin', name: '2nn' },
    rounds: 2,
    minClients: 2,
    roundTimeoutMs: 120_000,
    maxRoundRetries: 2,
    localEpochs: 1,
    batchSize: 32,
    optimizer: 'adam',
    lr: 0.001,
    maxLocalSteps: 20,
    partition: { kind: 'iid', seed: 3 },
    seed: 3,
    evaluation: 'mnist',
    keepCheckpoints: 2,
    secureAggregation: false,
    ...overrides,
  });

function writeKey(dir: string, name: string): { file: string; address: string } {
  const wallet = Wallet.createRandom();
  const file = join(dir, `${name}.key`);
  writeFileSync(file, `${wallet.privateKey}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file, address: wallet.address };
}

describe('federated runs over real sockets', () => {
  const processes: CohortProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    for (const c of cleanups.splice(0)) await c();
  });

  function worker(coordinatorUrl: string, keyFile: string, shard: string): CohortProcess {
    const p = spawnCohort(['worker', '--coordinator', coordinatorUrl, '--key', keyFile, '--shard', shard, '--backend', 'wasm']);
    processes.push(p);
    return p;
  }

  it('`cohort serve` and 3 `cohort worker` processes train MNIST and improve test accuracy', async () => {
    const dir = scratchDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const serve = spawnCohort(['serve', '--port', String(port), '--store', join(dir, 'run.sqlite'), '--rounds', '2', '--min-clients', '3', '--max-local-steps', '25', '--json']);
    processes.push(serve);
    await serve.waitForLine(/workers connect to/);
    for (let i = 0; i < 3; i++) worker(`ws://127.0.0.1:${port}/ws`, join(dir, `w${i}.key`), `${i}/3`);

    const { code } = await serve.exited;
    expect(code).toBe(0);
    const summary = JSON.parse(serve.output.filter((l) => l.startsWith('{')).at(-1) ?? '{}') as {
      rounds: number;
      accuracy: number;
      workers: Array<{ address: string; roundsParticipated: number; examples: number; kind: string }>;
    };
    expect(summary.rounds).toBe(2);
    expect(summary.workers).toHaveLength(3);
    for (const w of summary.workers) {
      expect(w.roundsParticipated).toBe(2);
      expect(w.examples).toBe(2 * 25 * 32);
      expect(w.kind).toBe('node');
    }
    // Chance is 10%; 150 federated Adam steps of the 2NN get far beyond it.
    expect(summary.accuracy).toBeGreaterThan(0.6);
  }, 240_000);

  it('receives only hello, ready and update messages, and no examples', async () => {
    const dir = scratchDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const received: WorkerMessage[] = [];
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: baseConfig({ rounds: 1, evaluation: 'none', maxLocalSteps: 5 }),
      observe: (_address, message) => received.push(message),
    });
    cleanups.push(() => coordinator.close());
    for (let i = 0; i < 2; i++) worker(coordinator.wsUrl, join(dir, `w${i}.key`), `${i}/2`);
    const summary = await coordinator.done;
    expect(summary.status).toBe('completed');

    expect(new Set(received.map((m) => m.type))).toEqual(new Set(['hello', 'ready', 'update']));
    const updateKeys = Object.keys(updateSchema.shape).sort();
    for (const m of received) {
      if (m.type !== 'update') continue;
      // Only the schema's fields survive validation: a weight delta and scalar metrics.
      expect(Object.keys(m).sort()).toEqual(updateKeys);
      expect(m.delta.length).toBe(coordinator.engine.parameterCount);
    }
  }, 180_000);

  it('evaluates on the workers\' own held-out data when the coordinator has no test set', async () => {
    const dir = scratchDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const received: WorkerMessage[] = [];
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: baseConfig({ rounds: 2, minClients: 2, evaluation: 'federated', federatedEvaluation: { heldOutFraction: 0.1, timeoutMs: 60_000 }, maxLocalSteps: 30 }),
      observe: (_address, message) => received.push(message),
    });
    cleanups.push(() => coordinator.close());
    for (let i = 0; i < 2; i++) worker(coordinator.wsUrl, join(dir, `w${i}.key`), `${i}/2`);
    const summary = await coordinator.done;

    expect(summary.status).toBe('completed');
    const evaluations = received.filter((m) => m.type === 'evaluation');
    expect(evaluations).toHaveLength(4); // two workers, two rounds
    for (const e of evaluations) {
      // Scalars only, over the held-out tenth of a 30,000-example shard.
      expect(Object.keys(e).sort()).toEqual(['accuracy', 'examples', 'loss', 'round', 'runId', 'type']);
      expect(e.examples).toBeGreaterThan(2_000);
      expect(e.examples).toBeLessThan(4_000);
    }
    const rounds = coordinator.store.rounds(coordinator.engine.runId);
    expect(rounds.every((r) => r.accuracy !== null && r.accuracy > 0.5)).toBe(true);
  }, 180_000);

  it('completes a round when a worker is killed in the middle of it', async () => {
    const dir = scratchDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: baseConfig({ rounds: 1, minClients: 2, clientsPerRound: 3, evaluation: 'none', maxLocalSteps: 300 }),
    });
    cleanups.push(() => coordinator.close());
    const keys = [0, 1, 2].map((i) => writeKey(dir, `w${i}`));
    const workers = keys.map((k, i) => worker(coordinator.wsUrl, k.file, `${i}/3`));
    // clientsPerRound 3: the round waits for all three, so all three are selected.
    await new Promise<void>((resolve) => {
      coordinator.engine.on((e) => {
        if (e.type === 'round-started' && e.selected.length === 3) resolve();
      });
    });
    const victim = workers[1]!;
    await victim.waitForLine(/round 1: training/);
    victim.kill('SIGKILL');

    const summary = await coordinator.done;
    expect(summary.status).toBe('completed');
    const rounds = coordinator.store.rounds(coordinator.engine.runId);
    expect(rounds).toHaveLength(1);
    expect(rounds[0]?.participants).toBe(2);
    const contributors = coordinator.store.contributions(coordinator.engine.runId).map((c) => c.address);
    expect(contributors.sort()).toEqual([keys[0]!.address, keys[2]!.address].sort());
  }, 180_000);
});
