/**
 * Capability-aware work's wire boundary, against a real coordinator over real WebSockets and
 * SQLite: a `ready` whose reported steps/s is NaN, ±Infinity, negative or absurdly large is
 * refused with E_MESSAGE_INVALID and its connection closed, and the coordinator keeps serving: a
 * scripted worker that reports a sane benchmark is given the steps that fit the round's target and
 * completes the run.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCodeFor } from '../../core/protocol/errors.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { scratchDir } from './helpers.js';
import { WireClient } from './wire-client.js';

describe('steps/s at the wire', () => {
  let dir: string;
  let coordinator: Coordinator;

  beforeAll(async () => {
    dir = scratchDir();
    coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'store.sqlite'),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 1,
        minClients: 1,
        targetRoundSeconds: 0.2,
        roundTimeoutMs: 60_000,
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
      }),
    });
  });

  afterAll(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['negative', -5],
    ['huge', 1e12],
  ])('refuses a ready with a %s steps/s (E_MESSAGE_INVALID)', async (_name, stepsPerSecond) => {
    const c = new WireClient(coordinator.wsUrl);
    const welcome = await c.signIn();
    c.send({ type: 'ready', runId: welcome.run.runId, backend: { backend: 'wasm', reason: 'test', stepsPerSecond }, examples: 640 });
    const error = await c.next('error');
    expect(error.code).toBe('E_MESSAGE_INVALID');
    expect((await c.closed).code).toBe(closeCodeFor('E_MESSAGE_INVALID'));
  });

  it('keeps serving: a worker with a sane benchmark gets the steps that fit the target and completes the run', async () => {
    expect(coordinator.engine.readyCount()).toBe(0);
    const good = new WireClient(coordinator.wsUrl);
    const welcome = await good.signIn();
    good.send({ type: 'ready', runId: welcome.run.runId, backend: { backend: 'wasm', reason: 'test', stepsPerSecond: 50 }, examples: 640 });
    const train = await good.next('train');
    // ⌊50 steps/s × 0.2 s⌋ = 10, within the 20 steps its 640 examples allow.
    expect(train.config.maxLocalSteps).toBe(10);
    expect(train.config.fedNova).toEqual({ weightExamples: 640 });
    good.send({ type: 'update', runId: train.runId, round: train.round, delta: new Float32Array(train.weights.length), examples: 320, steps: 10, loss: 1, accuracy: 0.1, trainMs: 5 });
    const summary = await coordinator.done;
    expect([summary.status, summary.rounds]).toEqual(['completed', 1]);
    expect(coordinator.gateway.counters.errors.E_MESSAGE_INVALID).toBe(4);
    good.close();
  });
});
