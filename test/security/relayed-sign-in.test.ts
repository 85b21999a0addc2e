/**
 * Attack: a relayed sign-in. An "evil" coordinator that a victim worker dialled opens its own
 * connection to the real coordinator, forwards the real challenge to the victim, and sends the
 * victim's signed hello back, to sign in as the victim (past allowlists, into the victim's rewards
 * and, with a downgrade, its updates). The victim signs the URL it dialled (the relay's), and the
 * real coordinator checks the signed URL against its own public URLs, so the relayed hello is
 * refused, whether the relay forwards it as it is or rewrites its URL to the real one.
 */
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import WebSocket, { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCoordinatorMessage, decodeWorkerMessage, encodeMessage } from '../../core/protocol/codec.js';
import type { CoordinatorMessage, HelloMessage } from '../../core/protocol/messages.js';
import type { SocketLike } from '../../core/worker/socket.js';
import { WorkerClient } from '../../core/worker/client.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { eventually, scratchDir } from '../e2e/helpers.js';

async function realCoordinator(cleanups: Array<() => Promise<unknown> | void>): Promise<Coordinator> {
  const dir = scratchDir('cohort-relay-');
  const coordinator = await startCoordinator({
    host: '127.0.0.1',
    port: 0,
    storePath: join(dir, 'run.sqlite'),
    config: parseRunConfig({
      model: { kind: 'builtin', name: '2nn' }, rounds: 1, minClients: 2, roundTimeoutMs: 60_000, maxRoundRetries: 0, localEpochs: 1,
      batchSize: 32, optimizer: 'adam', lr: 0.001, partition: { kind: 'iid', seed: 1 }, seed: 1, evaluation: 'none', keepCheckpoints: 1,
      secureAggregation: false,
    }),
  });
  cleanups.push(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return coordinator;
}

/** What the relay heard from the real coordinator on its own connection. */
interface RelayLog {
  fromReal: CoordinatorMessage[];
  realClosed: Promise<number>;
}

/** The evil coordinator: forwards the real challenge to the victim and the victim's hello back. */
async function startRelay(realUrl: string, rewrite: (hello: HelloMessage) => HelloMessage): Promise<{ url: string; log: Promise<RelayLog>; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const upstreams: WebSocket[] = [];
  const log = new Promise<RelayLog>((resolve) => {
    wss.on('connection', (victim) => {
      const real = new WebSocket(realUrl);
      upstreams.push(real);
      const fromReal: CoordinatorMessage[] = [];
      const realClosed = new Promise<number>((done) => real.on('close', (code) => done(code)));
      real.on('message', (data: Buffer) => {
        const message = decodeCoordinatorMessage(new Uint8Array(data));
        fromReal.push(message);
        // The real challenge goes to the victim untouched; nothing else does.
        if (message.type === 'challenge') victim.send(encodeMessage(message));
      });
      victim.on('message', (data: Buffer) => {
        const message = decodeWorkerMessage(new Uint8Array(data));
        if (message.type === 'hello') real.send(encodeMessage(rewrite(message)));
      });
      resolve({ fromReal, realClosed });
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`,
    log,
    async close() {
      for (const s of upstreams) s.terminate();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function victimDialling(url: string) {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const session = new WorkerClient({
    url,
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: (u) => new WebSocket(u) as unknown as SocketLike,
    reconnect: false,
    hooks: {
      prepare: async () => ({ backend: { backend: 'scripted', reason: 'test' }, examples: 100 }),
      train: async (message) => ({ delta: new Float32Array(message.weights.length), examples: 100, steps: 1, loss: 1, accuracy: 0.5, trainMs: 1 }),
    },
  });
  return { wallet, session };
}

describe('a relayed sign-in', () => {
  const cleanups: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it.each([
    ['forwarded as signed', (hello: HelloMessage) => hello, 'E_AUTH_WRONG_COORDINATOR'],
    ['with its URL rewritten to the real one', (hello: HelloMessage, realUrl?: string) => ({ ...hello, coordinatorUrl: realUrl ?? '' }), 'E_AUTH_BAD_SIGNATURE'],
  ])('is refused when the victim\'s hello is %s', async (_name, rewrite, expectedCode) => {
    // Prepare: the real coordinator, the relay in front of it, and a victim who dialled the relay
    const real = await realCoordinator(cleanups);
    const relay = await startRelay(real.wsUrl, (hello) => rewrite(hello, real.wsUrl));
    cleanups.push(() => relay.close());
    const victim = victimDialling(relay.url);
    cleanups.push(() => victim.session.stop());

    // Execute
    victim.session.start();
    const { fromReal, realClosed } = await relay.log;
    const closeCode = await realClosed;

    // Assert: the real coordinator refused the relayed hello with a stable code and never
    // welcomed the relay as the victim.
    const refusal = fromReal.find((m): m is Extract<CoordinatorMessage, { type: 'error' }> => m.type === 'error');
    expect(refusal?.code, JSON.stringify(fromReal.map((m) => m.type))).toBe(expectedCode);
    expect(closeCode).toBe(expectedCode === 'E_AUTH_WRONG_COORDINATOR' ? 4012 : 4010);
    expect(fromReal.some((m) => m.type === 'welcome')).toBe(false);
    expect(real.workers.connectedCount()).toBe(0);
    expect(real.engine.workerStats().some((w) => w.address === victim.wallet.address)).toBe(false);

    // …while the same worker, dialling the real coordinator itself, signs in: only relays are refused.
    await victim.session.stop();
    const direct = victimDialling(real.wsUrl);
    cleanups.push(() => direct.session.stop());
    direct.session.start();
    await eventually(() => (real.engine.readyCount() === 1 ? true : undefined), 30_000);
    expect(real.workers.connectedCount()).toBe(1);
  }, 60_000);
});
