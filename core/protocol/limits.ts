/**
 * Limits on untrusted input, with their defaults. Every one is documented in the README
 * ("Wire protocol and limits"); all can be set through startCoordinator's `limits`, most also by
 * a `cohort serve` flag.
 */
export interface WireLimits {
  /** Largest binary frame accepted from a signed-in worker, in bytes. A 1.66M-parameter float32 update is 6.6 MB. */
  maxFrameBytes: number;
  /**
   * Largest frame accepted before sign-in. Only a `hello` is valid then (at most about 2.7 KB), so
   * an anonymous peer can make the coordinator buffer no more than this per connection.
   */
  maxSignInFrameBytes: number;
  /** Messages allowed per connection per `rateWindowMs` before it is closed with E_RATE_LIMITED. */
  maxMessagesPerWindow: number;
  rateWindowMs: number;
  /** Simultaneous WebSocket connections; the next one is refused with E_TOO_MANY_CONNECTIONS. */
  maxConnections: number;
  /**
   * Simultaneous WebSocket connections from one IPv4 address or one IPv6 /64, loopback included;
   * the next one is refused with E_TOO_MANY_CONNECTIONS. Behind a reverse proxy every peer has
   * the proxy's address: raise it there.
   */
  maxConnectionsPerIp: number;
  /** Time a new connection has to answer the challenge. */
  handshakeTimeoutMs: number;
}

export const DEFAULT_LIMITS: WireLimits = {
  maxFrameBytes: 64 * 1024 * 1024,
  maxSignInFrameBytes: 4 * 1024,
  maxMessagesPerWindow: 200,
  rateWindowMs: 1_000,
  maxConnections: 2_000,
  maxConnectionsPerIp: 32,
  handshakeTimeoutMs: 10_000,
};
