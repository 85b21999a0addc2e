/**
 * The Node worker's socket: a `ws` client behind core's SocketLike, built as a typed wrapper (the
 * `ws` events feed the SocketLike handlers) rather than cast, so a change on either side is a
 * compile error here. The browser's counterpart is worker-browser/src/socket.ts.
 */
import WebSocket from 'ws';
import type { SocketLike } from '../core/worker/socket.js';

function text(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/** Opens `url`; frames over `maxPayload` bytes make `ws` close the connection (1009). */
export function wsSocket(url: string, options: { maxPayload: number }): SocketLike {
  const ws = new WebSocket(url, { maxPayload: options.maxPayload });
  ws.binaryType = 'arraybuffer';
  const socket: SocketLike = {
    binaryType: 'arraybuffer',
    get readyState() {
      return ws.readyState;
    },
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
  };
  ws.on('open', () => socket.onopen?.(undefined));
  // A text frame arrives as a string, as WHATWG WebSockets deliver it; the session refuses it.
  ws.on('message', (data, isBinary) => socket.onmessage?.({ data: isBinary ? data : text(data) }));
  ws.on('close', (code, reason) => socket.onclose?.({ code, reason: reason.toString('utf8') }));
  ws.on('error', (error) => socket.onerror?.(error));
  return socket;
}
