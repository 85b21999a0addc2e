/**
 * A per-connection frame limit for `ws`, enforced on the frame header.
 *
 * `ws` checks a frame's announced length against its receiver's `_maxPayload` before it buffers
 * any payload, and fails the connection above it. The server-wide `maxPayload` option sets that
 * field once for every connection; we need a small limit before sign-in and a large one after, so
 * we set the field per connection. It is not public API, so this file is the one place that
 * touches it (ws is pinned in package-lock.json), and test/security/preauth-memory.test.ts checks
 * the behaviour through a real socket. Should a future ws lack the field, `ws` still enforces the
 * server-wide ceiling and worker-registry.ts still refuses frames over the limit, only later.
 *
 * `ws` answers an oversized frame with close code 1009 and no reason a client can match on; our
 * listener runs first and answers E_FRAME_TOO_LARGE with its 4xxx close code instead.
 */
import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _maxPayload: number;
  prependListener(event: 'error', listener: (error: Error & { code?: unknown }) => void): unknown;
}

function receiverOf(socket: WebSocket): ReceiverInternals | undefined {
  const receiver = (socket as unknown as { _receiver?: Partial<ReceiverInternals> })._receiver;
  return receiver && typeof receiver._maxPayload === 'number' && typeof receiver.prependListener === 'function' ? (receiver as ReceiverInternals) : undefined;
}

/** Largest message `socket` accepts from now on; a larger frame is refused on its header. */
export function setReceiverFrameLimit(socket: WebSocket, maxBytes: number): boolean {
  const receiver = receiverOf(socket);
  if (receiver) receiver._maxPayload = maxBytes;
  return receiver !== undefined;
}

/** Calls `refuse` (before `ws` fails the connection with 1009) when a frame exceeds the limit. */
export function onReceiverFrameTooLarge(socket: WebSocket, refuse: () => void): void {
  receiverOf(socket)?.prependListener('error', (error) => {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') refuse();
  });
}
