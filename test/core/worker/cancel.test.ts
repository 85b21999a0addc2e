/**
 * The worker's side of `cancel` (issue 10.1), over a scripted coordinator socket: a cancel for
 * the round in training stops it at once and nothing is sent for it; a cancel for a round or run
 * it is not training, or a malformed one, is harmless: training goes on and its update is sent.
 */
import { Wallet, verifyMessage } from 'ethers';
import { describe, expect, it } from 'vitest';
import { decodeWorkerMessage, encodeMessage } from '../../../core/protocol/codec.js';
import { PROTOCOL_VERSION, type WorkerMessage } from '../../../core/protocol/messages.js';
import type { SocketLike } from '../../../core/worker/socket.js';
import { WorkerClient, type WorkerEvent } from '../../../core/worker/client.js';

const RUN = 'run-cancel';
const URL = 'ws://127.0.0.1:1/ws';

/** A socket the test plays the coordinator on: `deliver` hands the worker a frame. */
function scriptedSocket(): { socket: SocketLike; sent: WorkerMessage[]; deliver(message: object): void } {
  const sent: WorkerMessage[] = [];
  const socket: SocketLike = {
    binaryType: 'arraybuffer',
    readyState: 1,
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    send: (data) => void sent.push(decodeWorkerMessage(data)),
    close: () => undefined,
  };
  return { socket, sent, deliver: (message) => socket.onmessage?.({ data: encodeMessage(message) }) };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

/** A signed-in, ready worker whose training takes `release()` to finish (or an abort). */
async function readyWorker() {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const wire = scriptedSocket();
  const events: WorkerEvent[] = [];
  const aborted: unknown[] = [];
  let release: () => void = () => undefined;
  const client = new WorkerClient({
    url: URL,
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: () => wire.socket,
    reconnect: false,
    onEvent: (e) => events.push(e),
    hooks: {
      prepare: async () => ({ backend: { backend: 'scripted', reason: 'test' }, examples: 10 }),
      train: (message, signal) =>
        new Promise((resolve, reject) => {
          release = () => resolve({ delta: new Float32Array(message.weights.length).fill(0.5), examples: 10, steps: 1, loss: 1, accuracy: 0, trainMs: 1 });
          signal.addEventListener('abort', () => {
            aborted.push(signal.reason);
            reject(signal.reason);
          });
        }),
    },
  });
  client.start();
  wire.deliver({ type: 'challenge', protocol: PROTOCOL_VERSION, coordinatorId: 'c', coordinatorUrl: URL, nonce: '0x1234' });
  await until(() => wire.sent.some((m) => m.type === 'hello'));
  const run = { runId: RUN, model: { kind: 'builtin', name: '2nn' }, parameterCount: 4, partition: { kind: 'iid', alpha: 0.5, shardsPerClient: 2, seed: 1 }, secureAggregation: false };
  wire.deliver({ type: 'welcome', address: wallet.address, sessionId: 's', run });
  await until(() => wire.sent.some((m) => m.type === 'ready'));
  const train = (round: number) => ({
    type: 'train',
    runId: RUN,
    round,
    weights: new Float32Array(4),
    config: { localEpochs: 1, batchSize: 1, optimizer: 'sgd', lr: 0.1, seed: 1 },
    deadline: Date.now() + 60_000,
  });
  return { client, wire, events, aborted, train, release: () => release() };
}

describe('cancel on the worker', () => {
  it('stops the round in training at once and sends nothing for it', async () => {
    const w = await readyWorker();
    w.wire.deliver(w.train(3));
    await until(() => w.events.some((e) => e.kind === 'training'));
    w.wire.deliver({ type: 'cancel', runId: RUN, round: 3, reason: 'enough updates' });
    await until(() => w.aborted.length === 1);
    w.release(); // a training that finished anyway after the cancel still sends nothing
    await new Promise((r) => setTimeout(r, 20));
    expect(w.events.filter((e) => e.kind === 'cancelled')).toEqual([{ kind: 'cancelled', round: 3, reason: 'enough updates' }]);
    expect(w.wire.sent.filter((m) => m.type === 'update' || m.type === 'error')).toEqual([]);
    await w.client.stop();
  });

  it('ignores a cancel for another round or run, and a malformed one: the update is still sent', async () => {
    const w = await readyWorker();
    w.wire.deliver(w.train(2));
    await until(() => w.events.some((e) => e.kind === 'training'));
    w.wire.deliver({ type: 'cancel', runId: RUN, round: 7, reason: 'unknown round' });
    w.wire.deliver({ type: 'cancel', runId: 'another-run', round: 2, reason: 'another run' });
    w.wire.deliver({ type: 'cancel', runId: RUN, reason: 'no round' });
    await new Promise((r) => setTimeout(r, 20));
    w.release();
    await until(() => w.wire.sent.some((m) => m.type === 'update'));
    expect(w.aborted).toEqual([]);
    expect(w.events.some((e) => e.kind === 'cancelled')).toBe(false);
    // The malformed frame is reported as an invalid message, and the session goes on.
    expect(w.events.some((e) => e.kind === 'error' && e.code === 'E_MESSAGE_INVALID')).toBe(true);
    expect(w.wire.sent.find((m) => m.type === 'update')).toMatchObject({ round: 2, examples: 10 });
    await w.client.stop();
  });
});
