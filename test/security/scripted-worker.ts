/**
 * Workers for the aggregation attack tests: the real WorkerClient (so the real SecAgg+ client)
 * over a real WebSocket, with scripted training. A hostile one declares what it likes and may
 * rewrite any frame it is about to send (e.g. its masked input) before it goes on the wire.
 */
import { Wallet, verifyMessage } from 'ethers';
import WebSocket from 'ws';
import { decodeWorkerMessage, encodeMessage } from '../../core/protocol/codec.js';
import type { TrainMessage, WorkerMessage } from '../../core/protocol/messages.js';
import type { SocketLike } from '../../core/worker/socket.js';
import { WorkerClient } from '../../core/worker/client.js';
import { parseRunConfig, type RunConfig } from '../../coordinator/engine/run-config.js';

export interface ScriptedWorkerOptions {
  url: string;
  /** Examples declared in `ready` and after every round's training. */
  examples: number;
  /** The worker's delta for a `train` message (the n-th it got, from 1). */
  delta: (message: TrainMessage, nth: number) => Float32Array;
  /** Rewrites a message just before it is sent: what a hostile worker sends instead. */
  tamper?: (message: WorkerMessage) => WorkerMessage;
}

export function scriptedWorker(options: ScriptedWorkerOptions): { wallet: Wallet; session: WorkerClient } {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  let trained = 0;
  const session = new WorkerClient({
    url: options.url,
    kind: 'node',
    signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
    verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
    socketFactory: (u) => tamperingSocket(u, options.tamper),
    reconnect: false,
    hooks: {
      prepare: async () => ({ backend: { backend: 'scripted', reason: 'test' }, examples: options.examples }),
      train: async (message) => ({ delta: options.delta(message, ++trained), examples: options.examples, steps: 1, loss: 0.5, accuracy: 0.5, trainMs: 1 }),
    },
  });
  return { wallet, session };
}

/** A `ws` client socket whose outgoing frames pass through `tamper` (decoded, rewritten, re-encoded). */
function tamperingSocket(url: string, tamper: ScriptedWorkerOptions['tamper']): SocketLike {
  const socket = new WebSocket(url);
  if (tamper) {
    const send = socket.send.bind(socket);
    socket.send = ((data: Uint8Array) => send(encodeMessage(tamper(decodeWorkerMessage(data))))) as typeof socket.send;
  }
  return socket as unknown as SocketLike;
}

/** A small run of the 2NN on scripted workers: no test set, one attempt per round unless told. */
export function attackRunConfig(overrides: Record<string, unknown>): RunConfig {
  return parseRunConfig({
    model: { kind: 'builtin', name: '2nn' },
    rounds: 1,
    minClients: 4,
    roundTimeoutMs: 60_000,
    maxRoundRetries: 0,
    localEpochs: 1,
    batchSize: 32,
    optimizer: 'sgd',
    lr: 0.1,
    partition: { kind: 'iid', seed: 1 },
    seed: 1,
    evaluation: 'none',
    keepCheckpoints: 5,
    ...overrides,
  });
}

export function filled(length: number, value: number): Float32Array {
  return new Float32Array(length).fill(value);
}
