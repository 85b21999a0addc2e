/**
 * The browser worker's socket: the WHATWG WebSocket behind core's SocketLike, built as a typed
 * wrapper (the socket's events feed the SocketLike handlers) rather than cast, so a change on
 * either side is a compile error here. The Node counterpart is worker-node/ws-socket.ts.
 */
import type { SocketLike } from '../../core/worker/socket.js';

export function browserSocket(url: string): SocketLike {
  const ws = new WebSocket(url);
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
  ws.addEventListener('open', (event) => socket.onopen?.(event));
  ws.addEventListener('message', (event: MessageEvent<unknown>) => socket.onmessage?.({ data: event.data }));
  ws.addEventListener('close', (event) => socket.onclose?.({ code: event.code, reason: event.reason }));
  ws.addEventListener('error', (event) => socket.onerror?.(event));
  return socket;
}
