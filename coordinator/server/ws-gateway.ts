/**
 * The WebSocket transport of worker connections: a `ws` server on the coordinator's HTTP(S)
 * server at /ws. Framing, limits and the protocol itself live in worker-sessions.ts.
 */
import type { Server } from 'node:http';
import { WebSocketServer, type RawData } from 'ws';
import { CohortError, type ErrorCode } from '../../core/protocol/errors.js';
import type { WireLimits } from '../../core/protocol/limits.js';
import type { WorkerSessions } from './worker-sessions.js';

export type { GatewayCounters } from './worker-sessions.js';

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

export class WsGateway {
  private readonly wss: WebSocketServer;

  constructor(
    server: Server,
    limits: WireLimits,
    readonly sessions: WorkerSessions,
    log: (level: 'debug' | 'info' | 'warn', message: string) => void,
  ) {
    // ws enforces a hard ceiling at twice our limit (closing with 1009); frames between the two
    // get our own E_FRAME_TOO_LARGE, so clients see a stable code for ordinary oversize frames.
    this.wss = new WebSocketServer({ server, path: '/ws', maxPayload: limits.maxFrameBytes * 2 });
    this.wss.on('connection', (socket, request) => {
      socket.on('error', (error) => log('debug', `socket error from ${request.socket.remoteAddress}: ${error.message}`));
      const handle = sessions.accept({
        send: (bytes) => socket.send(bytes),
        close: (code, reason) => socket.close(code, reason),
        get open() {
          return socket.readyState === socket.OPEN;
        },
      });
      socket.on('message', (data, isBinary) => handle.onFrame(toBytes(data), isBinary));
      socket.on('close', (code, reason) => handle.onClose(code, reason.toString()));
    });
  }

  get counters(): WorkerSessions['counters'] {
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
