/**
 * Attack: a secure-aggregation downgrade. A hostile coordinator announces `secureAggregation: true`
 * in its welcome, then sends a `train` without the `secureAggregation` field, hoping the worker
 * answers with its raw delta in a plain `update`. The real worker session must refuse with
 * E_SECAGG_DOWNGRADE, never train, never send an update, and leave.
 *
 * Also: a worker that requires secure aggregation (`requireSecureAggregation`, the CLI's
 * `--require-secure-aggregation`) refuses to join a run whose welcome does not announce it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../core/protocol/messages.js';
import type { SocketLike } from '../../core/worker/socket.js';
import { WorkerClient } from '../../core/worker/client.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator } from '../../coordinator/app/start-coordinator.js';
import { scratchDir, spawnCohort } from '../e2e/helpers.js';
import { startHostileCoordinator, type HostileCoordinator } from './hostile-coordinator.js';

const PARAMETERS = 8;
const RUN = 'run-downgrade';

function realWorker(url: string, options: { requireSecureAggregation?: boolean } = {}) {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const calls = { prepare: 0, train: 0 };
  const session = new WorkerClient({
    url,
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: (u) => new WebSocket(u) as unknown as SocketLike,
    reconnect: false,
    requireSecureAggregation: options.requireSecureAggregation,
    hooks: {
      prepare: async () => {
        calls.prepare++;
        return { backend: { backend: 'scripted', reason: 'test' }, examples: 100 };
      },
      train: async (message) => {
        calls.train++;
        // The private delta the attacker wants.
        return { delta: new Float32Array(message.weights.length).fill(0.25), examples: 100, steps: 1, loss: 1, accuracy: 0.5, trainMs: 1 };
      },
    },
  });
  return { wallet, session, calls };
}

/** challenge → hello → welcome announcing `secureAggregation`, as a coordinator would. */
async function signInAndWelcome(evil: HostileCoordinator, secureAggregation: boolean): Promise<void> {
  await evil.connection();
  evil.send({ type: 'challenge', protocol: PROTOCOL_VERSION, coordinatorId: 'cohort-evil', coordinatorUrl: evil.url, nonce: `0x${'11'.repeat(32)}` });
  const hello = await evil.next('hello');
  evil.send({
    type: 'welcome',
    address: hello.address,
    sessionId: 'session-1',
    run: { runId: RUN, model: { kind: 'builtin', name: '2nn' }, parameterCount: PARAMETERS, partition: { kind: 'iid', seed: 1 }, secureAggregation },
  });
}

const plainTrain = (round: number) => ({
  type: 'train',
  runId: RUN,
  round,
  weights: new Float32Array(PARAMETERS),
  config: { localEpochs: 1, batchSize: 32, optimizer: 'adam', lr: 0.001, seed: 1 },
  deadline: Date.now() + 60_000,
  // No `secureAggregation` field: the downgrade.
});

describe('secure-aggregation downgrade by a hostile coordinator', () => {
  const cleanups: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('a worker welcomed to a secure run refuses a plain train with E_SECAGG_DOWNGRADE and sends no update', async () => {
    // Prepare: the hostile coordinator, and the real worker session dialling it
    const evil = await startHostileCoordinator();
    cleanups.push(() => evil.close());
    const worker = realWorker(evil.url);
    cleanups.push(() => worker.session.stop());
    worker.session.start();

    // Execute: announce secure aggregation, then ask for a plain update
    await signInAndWelcome(evil, true);
    await evil.next('ready');
    evil.send(plainTrain(1));
    const refusal = await evil.next('error');
    const end = await worker.session.done;

    // Assert: refused with the stable code, no training, no update, and the worker left
    expect(refusal.code).toBe('E_SECAGG_DOWNGRADE');
    expect(end.error?.code).toBe('E_SECAGG_DOWNGRADE');
    await evil.closed();
    expect(worker.calls.train).toBe(0);
    expect(evil.received.some((m) => m.type === 'update' || m.type === 'trained')).toBe(false);
  }, 60_000);

  it('a later welcome for the same run cannot drop secure aggregation either', async () => {
    const evil = await startHostileCoordinator();
    cleanups.push(() => evil.close());
    const worker = realWorker(evil.url);
    cleanups.push(() => worker.session.stop());
    worker.session.start();

    await signInAndWelcome(evil, true);
    await evil.next('ready');
    // The same run, re-announced as plain, then a plain train.
    evil.send({ type: 'welcome', address: worker.wallet.address, sessionId: 'session-2', run: { runId: RUN, model: { kind: 'builtin', name: '2nn' }, parameterCount: PARAMETERS, partition: { kind: 'iid', seed: 1 }, secureAggregation: false } });
    evil.send(plainTrain(1));
    const end = await worker.session.done;

    expect(end.error?.code).toBe('E_SECAGG_DOWNGRADE');
    expect(worker.calls.train).toBe(0);
    expect(evil.received.some((m) => m.type === 'update')).toBe(false);
  }, 60_000);

  it('a worker that requires secure aggregation refuses a plain run at its welcome (E_SECAGG_REQUIRED)', async () => {
    const evil = await startHostileCoordinator();
    cleanups.push(() => evil.close());
    const worker = realWorker(evil.url, { requireSecureAggregation: true });
    cleanups.push(() => worker.session.stop());
    worker.session.start();

    await signInAndWelcome(evil, false);
    const refusal = await evil.next('error');
    const end = await worker.session.done;

    expect(refusal.code).toBe('E_SECAGG_REQUIRED');
    expect(end.error?.code).toBe('E_SECAGG_REQUIRED');
    // It never got ready: no model built, no data loaded, nothing to ask it to train.
    expect(worker.calls.prepare).toBe(0);
    expect(evil.received.some((m) => m.type === 'ready')).toBe(false);
  }, 60_000);

  it('`cohort worker --require-secure-aggregation` exits 1 with E_SECAGG_REQUIRED against a real plain-run coordinator', async () => {
    // Prepare: a real coordinator running plain FedAvg
    const dir = scratchDir('cohort-downgrade-');
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' }, rounds: 1, minClients: 1, roundTimeoutMs: 60_000, maxRoundRetries: 0, localEpochs: 1,
        batchSize: 32, optimizer: 'adam', lr: 0.001, partition: { kind: 'iid', seed: 1 }, seed: 1, evaluation: 'none', keepCheckpoints: 1,
        secureAggregation: false,
      }),
    });
    cleanups.push(async () => {
      await coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    });

    // Execute
    const cli = spawnCohort(['worker', '--coordinator', coordinator.wsUrl, '--key', join(dir, 'w.key'), '--require-secure-aggregation', '--backend', 'cpu']);
    cleanups.push(() => cli.kill('SIGKILL'));
    const exit = await cli.exited;

    // Assert: a clear error with the stable code, and the run never got this worker
    expect(exit.code, cli.output.join('\n')).toBe(1);
    expect(cli.output.join('\n')).toMatch(/E_SECAGG_REQUIRED/);
    expect(coordinator.engine.readyCount()).toBe(0);
  }, 90_000);
});
