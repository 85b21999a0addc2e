/**
 * Bad input at the wire boundary, against a real coordinator over real WebSockets and SQLite:
 * each kind of bad frame gets its error code and close code, and the coordinator keeps serving a
 * real worker, whose run completes with every round stored.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCodeFor, type ErrorCode } from '../../core/protocol/errors.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { scratchDir, spawnCohort, type CohortProcess } from './helpers.js';
import { WireClient } from './wire-client.js';

const MAX_FRAME = 1024 * 1024;

describe('bad input at the wire', () => {
  let dir: string;
  let coordinator: Coordinator;

  beforeAll(async () => {
    dir = scratchDir();
    coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'store.sqlite'),
      limits: { maxFrameBytes: MAX_FRAME, maxMessagesPerWindow: 30, rateWindowMs: 1000 },
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 2,
        minClients: 1,
        roundTimeoutMs: 60_000,
        maxRoundRetries: 3,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'adam',
        lr: 0.001,
        maxLocalSteps: 5,
        partition: { kind: 'iid', seed: 1 },
        seed: 1,
        evaluation: 'none',
        keepCheckpoints: 2,
        secureAggregation: false,
      }),
    });
  });

  afterAll(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function expectRefused(client: WireClient, code: ErrorCode): Promise<void> {
    const error = await client.next('error');
    expect(error.code).toBe(code);
    expect((await client.closed).code).toBe(closeCodeFor(code));
  }

  it('closes text frames with E_FRAME_TEXT', async () => {
    const c = new WireClient(coordinator.wsUrl);
    await c.next('challenge');
    c.sendRaw('{"type":"hello"}');
    await expectRefused(c, 'E_FRAME_TEXT');
  });

  it('closes malformed msgpack with E_FRAME_DECODE', async () => {
    const c = new WireClient(coordinator.wsUrl);
    await c.next('challenge');
    c.sendRaw(Uint8Array.from([0xc1, 0xc1, 0xc1]));
    await expectRefused(c, 'E_FRAME_DECODE');
  });

  it('closes unknown message types with E_MESSAGE_UNKNOWN_TYPE', async () => {
    const c = new WireClient(coordinator.wsUrl);
    await c.next('challenge');
    c.sendRaw(pack({ type: 'gimme-data' }));
    await expectRefused(c, 'E_MESSAGE_UNKNOWN_TYPE');
  });

  it('closes wrong field types with E_MESSAGE_INVALID', async () => {
    const c = new WireClient(coordinator.wsUrl);
    await c.next('challenge');
    c.send({ type: 'hello', protocol: 'one', address: 42 });
    await expectRefused(c, 'E_MESSAGE_INVALID');
  });

  it('closes oversized frames with E_FRAME_TOO_LARGE', async () => {
    const c = new WireClient(coordinator.wsUrl);
    await c.next('challenge');
    c.sendRaw(new Uint8Array(MAX_FRAME + 1000));
    await expectRefused(c, 'E_FRAME_TOO_LARGE');
  });

  it('closes a flood of messages with E_RATE_LIMITED', async () => {
    const c = new WireClient(coordinator.wsUrl);
    await c.signIn();
    for (let i = 0; i < 100; i++) c.send({ type: 'error', code: 'E_INTERNAL', message: `noise ${i}` });
    await expectRefused(c, 'E_RATE_LIMITED');
  });

  it('refuses messages before sign-in with E_UNEXPECTED_MESSAGE', async () => {
    const c = new WireClient(coordinator.wsUrl);
    await c.next('challenge');
    c.send({ type: 'ready', runId: coordinator.engine.runId, backend: { backend: 'cpu', reason: 'x' }, examples: 1 });
    await expectRefused(c, 'E_UNEXPECTED_MESSAGE');
  });

  it('replaces a session that signs in again with the same identity, counting it once', async () => {
    const first = new WireClient(coordinator.wsUrl);
    await first.signIn();
    const second = new WireClient(coordinator.wsUrl, first.wallet);
    await second.signIn();
    await expectRefused(first, 'E_SESSION_REPLACED');
    second.close();
  });

  it('drops updates of the wrong length or with NaN, retries the round, and completes the run with a real worker', async () => {
    let worker: CohortProcess | undefined;
    try {
      // A scripted worker answers round 1 with an update of the wrong length…
      const wrongLength = new WireClient(coordinator.wsUrl);
      const welcome = await wrongLength.signIn();
      wrongLength.send({ type: 'ready', runId: welcome.run.runId, backend: { backend: 'cpu', reason: 'test' }, examples: 10 });
      const train1 = await wrongLength.next('train');
      const update = { type: 'update', runId: train1.runId, round: train1.round, examples: 10, steps: 1, loss: 1, accuracy: 0.1, trainMs: 1 };
      wrongLength.send({ ...update, delta: new Float32Array(train1.weights.length - 1) });
      await expectRefused(wrongLength, 'E_UPDATE_LENGTH');

      // …another with NaN in it.
      const nan = new WireClient(coordinator.wsUrl);
      await nan.signIn();
      nan.send({ type: 'ready', runId: welcome.run.runId, backend: { backend: 'cpu', reason: 'test' }, examples: 10 });
      const train2 = await nan.next('train');
      expect(train2.round).toBe(1); // the round was retried, not skipped
      const poisoned = new Float32Array(train2.weights.length);
      poisoned[7] = Number.NaN;
      nan.send({ ...update, round: train2.round, delta: poisoned });
      await expectRefused(nan, 'E_UPDATE_NOT_FINITE');

      // A real worker process then completes both rounds.
      worker = spawnCohort(['worker', '--coordinator', coordinator.wsUrl, '--key', join(dir, 'good.key'), '--shard', '0/4', '--backend', 'wasm']);
      const summary = await coordinator.done;
      expect(summary.status).toBe('completed');
      expect(summary.rounds).toBe(2);
      const failures = coordinator.store.roundFailures(coordinator.engine.runId);
      expect(failures.map((f) => f.round)).toEqual([1, 1]);
      expect(coordinator.store.rounds(coordinator.engine.runId).map((r) => r.round)).toEqual([1, 2]);
      // Every error above was counted, and nothing already stored was lost.
      expect(coordinator.gateway.counters.errors.E_UPDATE_LENGTH).toBe(1);
      expect(coordinator.gateway.counters.errors.E_UPDATE_NOT_FINITE).toBe(1);
    } finally {
      worker?.kill();
      await worker?.exited;
    }
  }, 180_000);
});
