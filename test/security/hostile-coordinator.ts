/**
 * A hostile coordinator for attack tests: a real WebSocket server on 127.0.0.1 that speaks the
 * protocol (msgpack frames, the real codec) but sends whatever the test scripts. It records every
 * message the worker sends, decoded and validated as the real coordinator would.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeWorkerMessage, encodeMessage } from '../../core/protocol/codec.js';
import type { WorkerMessage } from '../../core/protocol/messages.js';

export interface HostileCoordinator {
  /** ws://127.0.0.1:PORT/ws */
  readonly url: string;
  readonly received: WorkerMessage[];
  /** The worker's socket once it connected. */
  connection(): Promise<WebSocket>;
  /** How many connections were made to it so far. */
  connectionCount(): number;
  send(message: object): void;
  /** Resolves with the first received message of `type` (already received or future). */
  next<T extends WorkerMessage['type']>(type: T, timeoutMs?: number): Promise<Extract<WorkerMessage, { type: T }>>;
  /** Resolves when the worker closes its socket. */
  closed(): Promise<number>;
  close(): Promise<void>;
}

export async function startHostileCoordinator(onConnect?: (socket: WebSocket) => void): Promise<HostileCoordinator> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const received: WorkerMessage[] = [];
  const waiters: Array<() => void> = [];
  let current: WebSocket | undefined;
  let connections = 0;
  let resolveConnection!: (socket: WebSocket) => void;
  const connected = new Promise<WebSocket>((resolve) => (resolveConnection = resolve));
  let resolveClosed!: (code: number) => void;
  const closedOnce = new Promise<number>((resolve) => (resolveClosed = resolve));
  wss.on('connection', (socket) => {
    current = socket;
    connections++;
    socket.on('message', (data: Buffer) => {
      received.push(decodeWorkerMessage(new Uint8Array(data)));
      for (const wake of waiters.splice(0)) wake();
    });
    socket.on('close', (code) => resolveClosed(code));
    onConnect?.(socket);
    resolveConnection(socket);
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    received,
    connection: () => connected,
    connectionCount: () => connections,
    send(message) {
      current?.send(encodeMessage(message));
    },
    next(type, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const look = (): void => {
          const found = received.find((m) => m.type === type);
          if (found) return resolve(found as never);
          if (Date.now() > deadline) return reject(new Error(`no ${type} from the worker within ${timeoutMs} ms; got ${received.map((m) => m.type).join(', ')}`));
          waiters.push(look);
          setTimeout(look, 200);
        };
        look();
      });
    },
    closed: () => closedOnce,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
