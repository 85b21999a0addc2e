/**
 * The in-memory twin of a worker's WebSocket: a SocketLike for the worker side, wired straight to
 * WorkerRegistry. Frames are still msgpack bytes and go through the same validation, so a
 * simulated worker exercises exactly the protocol a real one does, minus the kernel.
 */
import type { SocketLike } from '../../core/worker/socket.js';
import type { WorkerRegistry } from './worker-registry.js';

/** The URL simulated workers (WorkerClient over connectInMemory) are given, and sign. */
export const IN_MEMORY_COORDINATOR_URL = 'memory://coordinator';

const OPEN = 1;
const CLOSED = 3;

export function connectInMemory(sessions: WorkerRegistry): SocketLike {
  let state = OPEN;
  // Deliveries are asynchronous, like a socket's, so neither side re-enters the other.
  const later = (fn: () => void): void => void setImmediate(fn);
  const client: SocketLike = {
    binaryType: 'arraybuffer',
    get readyState() {
      return state;
    },
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    send(data) {
      if (state !== OPEN) return;
      // msgpackr may reuse its output buffer, so each frame is copied, as a socket would.
      const copy = data.slice();
      later(() => handle.onFrame(copy, true));
    },
    close(code = 1000, reason = '') {
      if (state === CLOSED) return;
      state = CLOSED;
      later(() => {
        handle.onClose(code, reason);
        client.onclose?.({ code, reason });
      });
    },
  };
  const handle = sessions.accept({
    // Simulated workers dial this URL; a hello signed for it is accepted only on this transport.
    signInUrls: [IN_MEMORY_COORDINATOR_URL],
    get open() {
      return state === OPEN;
    },
    send(bytes) {
      const copy = bytes.slice();
      later(() => {
        if (state === OPEN) client.onmessage?.({ data: copy });
      });
    },
    close(code, reason) {
      if (state === CLOSED) return;
      state = CLOSED;
      later(() => {
        handle.onClose(code, reason);
        client.onclose?.({ code, reason });
      });
    },
  });
  later(() => client.onopen?.({}));
  return client;
}
