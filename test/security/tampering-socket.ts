/**
 * A worker's WebSocket that rewrites its own outgoing messages: how attack tests make one real
 * WorkerClient (real SecAggClient, real sockets) misbehave exactly where they want, while
 * everything else about it stays honest.
 */
import WebSocket from 'ws';
import { decodeFrame, encodeMessage } from '../../core/protocol/codec.js';
import type { SocketLike } from '../../core/worker/socket.js';

/** Returns the message to send instead (the same object, changed, is fine). */
export type Rewrite = (message: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** Outgoing frames keep their order even when a rewrite takes time (e.g. signs something). */
export function tamperingSocket(url: string, rewrite: Rewrite): SocketLike {
  const ws = new WebSocket(url);
  const send = ws.send.bind(ws);
  const socket = ws as unknown as SocketLike;
  let queue = Promise.resolve();
  socket.send = (data: Uint8Array) => {
    queue = queue.then(async () => {
      const message = await rewrite(decodeFrame(data) as Record<string, unknown>);
      if (ws.readyState === WebSocket.OPEN) send(encodeMessage(message));
    });
  };
  return socket;
}
