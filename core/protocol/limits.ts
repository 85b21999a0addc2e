/**
 * Limits on untrusted input, with their defaults. Every one is documented in the README
 * ("Limits") and can be overridden on `cohort serve`.
 */
export interface WireLimits {
  /** Largest binary frame accepted, in bytes. A 1.66M-parameter float32 update is 6.6 MB. */
  maxFrameBytes: number;
  /** Messages allowed per connection per `rateWindowMs` before it is closed with E_RATE_LIMITED. */
  maxMessagesPerWindow: number;
  rateWindowMs: number;
  /** Simultaneous WebSocket connections; the next one is refused with E_TOO_MANY_CONNECTIONS. */
  maxConnections: number;
  /** Time a new connection has to answer the challenge. */
  handshakeTimeoutMs: number;
}

export const DEFAULT_LIMITS: WireLimits = {
  maxFrameBytes: 64 * 1024 * 1024,
  maxMessagesPerWindow: 200,
  rateWindowMs: 1_000,
  maxConnections: 2_000,
  handshakeTimeoutMs: 10_000,
};
