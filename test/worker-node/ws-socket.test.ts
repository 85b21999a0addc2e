// worker-node/ws-socket.ts against a real `ws` server on 127.0.0.1: the SocketLike it builds
// delivers binary frames as bytes, text frames as strings (which the session refuses), and the
// close code and reason, and its readyState follows the connection.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { SOCKET_OPEN, messageBytes } from '../../core/worker/socket.js';
import { wsSocket } from '../../worker-node/ws-socket.js';

let server: WebSocketServer | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function listen(onConnection: (peer: WebSocket) => void): Promise<string> {
  return new Promise((resolve) => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => resolve(`ws://127.0.0.1:${(server?.address() as AddressInfo).port}`));
    server.on('connection', onConnection);
  });
}

describe('wsSocket', () => {
  it('carries binary and text frames and the close', async () => {
    const url = await listen((peer) => {
      peer.on('message', (data) => {
        peer.send(Buffer.from([9, 8, 7]));
        peer.send('a text frame');
        peer.close(4012, `got ${(data as Buffer).length} bytes`);
      });
    });
    const socket = wsSocket(url, { maxPayload: 1024 });
    const received: unknown[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      socket.onclose = resolve;
    });
    socket.onmessage = (event) => received.push(event.data);
    socket.onopen = () => {
      expect(socket.readyState).toBe(SOCKET_OPEN);
      socket.send(new Uint8Array([1, 2, 3, 4]));
    };
    expect(await closed).toEqual({ code: 4012, reason: 'got 4 bytes' });
    expect([...(messageBytes(received[0]) ?? [])]).toEqual([9, 8, 7]);
    expect(received[1]).toBe('a text frame');
    expect(messageBytes(received[1])).toBeUndefined();
    expect(socket.readyState).toBeGreaterThan(SOCKET_OPEN);
  });

  it('reports a refused connection as an error, then a close', async () => {
    const url = await listen(() => undefined);
    const port = Number(new URL(url).port);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const socket = wsSocket(`ws://127.0.0.1:${port}`, { maxPayload: 1024 });
    const events: string[] = [];
    socket.onerror = () => events.push('error');
    await new Promise<void>((resolve) => {
      socket.onclose = (event) => {
        events.push(`close ${event.code}`);
        resolve();
      };
    });
    expect(events).toEqual(['error', 'close 1006']);
  });
});
