/**
 * The WebSocket transport of worker connections: a `ws` server on the coordinator's HTTP(S)
 * server at /ws. The protocol, and the policy of which limit applies when, live in
 * worker-registry.ts; this file makes `ws` enforce those limits before it buffers a frame.
 *
 * Frame limits are checked on the frame header, so an oversized frame is refused after its first
 * bytes, never held in memory: before sign-in at `maxSignInFrameBytes` (a few KB), after it at
 * `maxFrameBytes`. `ws` has one `maxPayload` per server; the per-connection limit is set on its
 * receiver (frame-limit.ts), and `maxPayload` itself is exactly `maxFrameBytes`, the ceiling.
 */
import type { Server } from 'node:http';
import { WebSocketServer, type RawData } from 'ws';
import { CohortError, type ErrorCode } from '../../core/protocol/errors.js';
import type { WireLimits } from '../../core/protocol/limits.js';
import { onReceiverFrameTooLarge, setReceiverFrameLimit } from './frame-limit.js';
import type { WorkerRegistry } from './worker-registry.js';

export type { GatewayCounters } from './worker-registry.js';

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

export class WsGateway {
  private readonly wss: WebSocketServer;

  constructor(
    server: Server,
    limits: WireLimits,
    readonly sessions: WorkerRegistry,
    log: (level: 'debug' | 'info' | 'warn', message: string) => void,
  ) {
    // No compression: an inflated frame could outgrow the limit its compressed header announced.
    this.wss = new WebSocketServer({ server, path: '/ws', maxPayload: limits.maxFrameBytes, perMessageDeflate: false });
    this.wss.on('connection', (socket, request) => {
      const peer = request.socket.remoteAddress;
      socket.on('error', (error) => log('debug', `socket error from ${peer}: ${error.message}`));
      // Small from the first byte, so even a connection refused below cannot make us buffer much.
      setReceiverFrameLimit(socket, limits.maxSignInFrameBytes);
      const handle = sessions.accept({
        send: (bytes) => socket.send(bytes),
        close: (code, reason) => socket.close(code, reason),
        get open() {
          return socket.readyState === socket.OPEN;
        },
        peer,
        limitFrames: (maxBytes) => setReceiverFrameLimit(socket, maxBytes),
      });
      onReceiverFrameTooLarge(socket, () => handle.onFrameTooLarge());
      socket.on('message', (data, isBinary) => handle.onFrame(toBytes(data), isBinary));
      socket.on('close', (code, reason) => handle.onClose(code, reason.toString()));
    });
  }

  get counters(): WorkerRegistry['counters'] {
    return this.sessions.counters;
  }

  connectedCount(): number {
    return this.sessions.connectedCount();
  }

  /** Close every connection, then the server. */
  async close(code: ErrorCode = 'E_SHUTTING_DOWN'): Promise<void> {
    for (const client of this.wss.clients) client.close(new CohortError(code).closeCode, code);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
