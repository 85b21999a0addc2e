/**
 * The slice of the WHATWG WebSocket API a worker needs, so the worker session is written once, in
 * core. Each runtime builds one with a typed adapter, never a cast: worker-node/ws-socket.ts (the
 * `ws` client), worker-browser/src/socket.ts (the browser's WebSocket), and the coordinator's
 * in-memory twin (coordinator/transport/in-memory-transport.ts).
 */
export interface SocketLike {
  /** Binary frames arrive as ArrayBuffers (the session sets it; adapters start with it). */
  binaryType: 'arraybuffer';
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export const SOCKET_OPEN = 1;

/** Normalises the `data` of a binary message event to bytes; text frames yield undefined. */
export function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data) && data.every((part) => part instanceof Uint8Array)) {
    const parts = data as Uint8Array[];
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const p of parts) {
      joined.set(p, offset);
      offset += p.byteLength;
    }
    return joined;
  }
  return undefined;
}
