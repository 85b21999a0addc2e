/**
 * The coordinator's side of every worker connection, whatever carries it (a WebSocket, or the
 * in-memory twin used for simulations): it enforces the message limits, runs the sign-in
 * handshake, keeps one session per identity, and hands validated messages to the run engine.
 *
 * Every bad input ends in an `error` message with a stable code, then (when fatal) a close code in
 * 4000–4999. Nothing a peer sends can throw past this file: the coordinator keeps serving others.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { decodeSignInMessage, decodeWorkerMessage, encodeMessage } from '../../core/protocol/codec.js';
import { CohortError, ERROR_CODES, closesConnection, type ErrorCode } from '../../core/protocol/errors.js';
import type { WireLimits } from '../../core/protocol/limits.js';
import { PROTOCOL_VERSION, type ChallengeMessage, type CoordinatorMessage, type WorkerKind, type WorkerMessage } from '../../core/protocol/messages.js';
import type { WorkerChannel } from './channel.js';
import type { RunEngine } from '../engine/run-engine.js';
import type { RunStore } from '../store/run-store.js';
import { PerIpQuota } from './per-ip-quota.js';
import { RateLimiter } from './rate-limiter.js';
import { normalizeCoordinatorUrl } from '../../core/protocol/identity.js';
import { verifyHello } from './verify-hello.js';

/** What carries frames to one worker: a WebSocket, or an in-memory pipe. */
export interface FrameTransport {
  send(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
  readonly open: boolean;
  /** The peer's IP address, where the transport has one; it is counted against maxConnectionsPerIp. */
  readonly peer?: string | undefined;
  /** Tells the transport the largest frame it may buffer now (small before sign-in). */
  limitFrames?(maxBytes: number): void;
  /**
   * The URLs a worker on this transport can have dialled, when they are not the coordinator's
   * public URLs (the in-memory twin: memory://coordinator). A hello signed for any other is refused.
   */
  readonly signInUrls?: readonly string[];
}

export interface WorkerRegistryOptions {
  coordinatorId: string;
  /** The URL the challenge names (the first public URL). */
  coordinatorUrl: string;
  /** Every URL workers reach this coordinator at, normalized; a hello must be signed for one (default: coordinatorUrl). */
  publicUrls?: readonly string[];
  limits: WireLimits;
  store: RunStore;
  engine: () => RunEngine | undefined;
  log: (level: 'debug' | 'info' | 'warn', message: string) => void;
  /** Sees every validated message from a signed-in worker (metrics, audits, tests). */
  observe?: ((address: string, message: WorkerMessage) => void) | undefined;
  /** Checks a proven address at sign-in; throws E_NOT_ALLOWED for one off the run's allowlist. */
  admitAddress?: ((address: string) => void) | undefined;
}


export interface GatewayCounters {
  bytesIn: number;
  bytesOut: number;
  errors: Partial<Record<ErrorCode, number>>;
}

class Connection implements WorkerChannel {
  sessionId = randomUUID();
  address = '';
  kind: WorkerKind = 'node';
  authenticated = false;
  nonceUsed = false;
  closed = false;
  /** The address group this connection holds a per-IP slot in, if any. */
  quotaGroup: string | undefined;
  readonly limiter: RateLimiter;
  handshakeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly transport: FrameTransport,
    readonly challenge: ChallengeMessage,
    limits: WireLimits,
    private readonly counters: GatewayCounters,
  ) {
    this.limiter = new RateLimiter(limits.maxMessagesPerWindow, limits.rateWindowMs);
  }

  send(message: CoordinatorMessage): void {
    if (this.closed || !this.transport.open) return;
    const bytes = encodeMessage(message);
    this.counters.bytesOut += bytes.byteLength;
    this.transport.send(bytes);
  }

  close(code: ErrorCode, message: string): void {
    if (this.closed) return;
    this.send({ type: 'error', code, message: message.slice(0, 4000) });
    this.closed = true;
    this.transport.close(new CohortError(code).closeCode, code);
  }
}

/** One connection's inbound side, as the transport sees it. */
export interface ConnectionHandle {
  onFrame(data: Uint8Array, isBinary: boolean): void;
  /** The transport refused a frame over the current limit without buffering it. */
  onFrameTooLarge(): void;
  onClose(code: number, reason: string): void;
}

export class WorkerRegistry {
  private readonly byAddress = new Map<string, Connection>();
  private readonly open = new Set<Connection>();
  private readonly perIp: PerIpQuota;
  readonly counters: GatewayCounters = { bytesIn: 0, bytesOut: 0, errors: {} };

  constructor(private readonly options: WorkerRegistryOptions) {
    this.perIp = new PerIpQuota(options.limits.maxConnectionsPerIp);
  }

  /** Signed-in workers. */
  connectedCount(): number {
    return this.byAddress.size;
  }

  /** Close every connection (the coordinator is shutting down, or the run moved on). */
  closeAll(code: ErrorCode = 'E_SHUTTING_DOWN'): void {
    for (const connection of this.open) connection.close(code, ERROR_CODES[code].summary);
  }

  private count(code: ErrorCode): void {
    this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
  }

  /** A new connection: send the challenge and return the handle its transport feeds. */
  accept(transport: FrameTransport): ConnectionHandle {
    const { limits, coordinatorId, coordinatorUrl } = this.options;
    const challenge: ChallengeMessage = {
      type: 'challenge',
      protocol: PROTOCOL_VERSION,
      coordinatorId,
      coordinatorUrl,
      nonce: `0x${randomBytes(32).toString('hex')}`,
    };
    const connection = new Connection(transport, challenge, limits, this.counters);
    const handle: ConnectionHandle = {
      onFrame: (data, isBinary) => this.onFrame(connection, data, isBinary),
      onFrameTooLarge: () => this.reportError(connection, new CohortError('E_FRAME_TOO_LARGE', `frame exceeds the limit of ${this.frameLimit(connection)} bytes`)),
      onClose: (code, reason) => this.onClose(connection, code, reason),
    };
    if (this.open.size >= limits.maxConnections) {
      this.count('E_TOO_MANY_CONNECTIONS');
      connection.close('E_TOO_MANY_CONNECTIONS', `limit of ${limits.maxConnections} connections reached`);
      return handle;
    }
    if (transport.peer !== undefined) {
      connection.quotaGroup = this.perIp.tryAcquire(transport.peer);
      if (connection.quotaGroup === undefined) {
        this.count('E_TOO_MANY_CONNECTIONS');
        connection.close('E_TOO_MANY_CONNECTIONS', `limit of ${limits.maxConnectionsPerIp} connections from one address reached`);
        return handle;
      }
    }
    transport.limitFrames?.(limits.maxSignInFrameBytes);
    this.open.add(connection);
    connection.handshakeTimer = setTimeout(() => {
      if (!connection.authenticated) connection.close('E_AUTH_TIMEOUT', `no signed hello within ${limits.handshakeTimeoutMs} ms`);
    }, limits.handshakeTimeoutMs);
    connection.send(challenge);
    return handle;
  }

  private onFrame(connection: Connection, bytes: Uint8Array, isBinary: boolean): void {
    if (connection.closed) return;
    try {
      if (!connection.limiter.take()) throw new CohortError('E_RATE_LIMITED', `more than ${this.options.limits.maxMessagesPerWindow} messages in ${this.options.limits.rateWindowMs} ms`);
      if (!isBinary) throw new CohortError('E_FRAME_TEXT');
      this.counters.bytesIn += bytes.byteLength;
      // Before sign-in only a small hello is decoded: an anonymous peer cannot make us build big objects.
      const limit = this.frameLimit(connection);
      const message = connection.authenticated ? decodeWorkerMessage(bytes, limit) : decodeSignInMessage(bytes, limit);
      this.dispatch(connection, message);
    } catch (error) {
      this.reportError(connection, error);
    }
  }

  private frameLimit(connection: Connection): number {
    return connection.authenticated ? this.options.limits.maxFrameBytes : this.options.limits.maxSignInFrameBytes;
  }

  /** Answer a refused message with its code; close the connection when the code is fatal. */
  private reportError(connection: Connection, error: unknown): void {
    const e = error instanceof CohortError ? error : new CohortError('E_INTERNAL', error instanceof Error ? error.message : String(error));
    this.count(e.code);
    this.options.log(e.code === 'E_INTERNAL' ? 'warn' : 'info', `${connection.address || 'unauthenticated peer'}: ${e.code} ${e.message}`);
    if (closesConnection(e.code)) {
      // Leave the pool now, not when the close handshake ends, so no round selects it meanwhile.
      if (connection.authenticated) this.options.engine()?.removeWorker(connection, e.code);
      connection.close(e.code, e.message);
    } else {
      connection.send({ type: 'error', code: e.code, message: e.message.slice(0, 4000) });
    }
  }

  private dispatch(connection: Connection, message: WorkerMessage): void {
    if (!connection.authenticated) {
      if (message.type !== 'hello') throw new CohortError('E_UNEXPECTED_MESSAGE', `expected hello, got ${message.type}`);
      const used = connection.nonceUsed;
      connection.nonceUsed = true; // one signature attempt per challenge
      const urls = connection.transport.signInUrls ?? this.options.publicUrls ?? [this.options.coordinatorUrl];
      connection.address = verifyHello(message, connection.challenge, used, urls.map(normalizeCoordinatorUrl));
      this.options.admitAddress?.(connection.address);
      connection.kind = message.kind;
      this.options.observe?.(connection.address, message);
      this.admit(connection);
      return;
    }
    this.options.observe?.(connection.address, message);
    const engine = this.options.engine();
    switch (message.type) {
      case 'hello':
        throw new CohortError('E_UNEXPECTED_MESSAGE', 'already signed in');
      case 'ready':
        if (!engine || message.runId !== engine.runId) throw new CohortError('E_UPDATE_STALE', `run ${message.runId} is not active here`);
        this.options.store.updateSessionBackend(connection.sessionId, message.backend.backend, message.backend.reason);
        engine.addReady({ channel: connection, backend: message.backend, examples: message.examples });
        return;
      case 'update':
        if (!engine) throw new CohortError('E_UPDATE_STALE', 'no run is active');
        engine.onUpdate(connection, message);
        return;
      case 'evaluation':
        if (!engine) throw new CohortError('E_UPDATE_STALE', 'no run is active');
        engine.onEvaluation(connection, message);
        return;
      case 'trained':
        if (!engine) throw new CohortError('E_UPDATE_STALE', 'no run is active');
        engine.onTrained(connection, message);
        return;
      case 'secagg-reply':
        if (!engine) throw new CohortError('E_SECAGG_STAGE', 'no run is active');
        // Verification is asynchronous (WebCrypto); its refusal is reported like any other error.
        engine.onSecAggReply(connection, message).catch((error: unknown) => this.reportError(connection, error));
        return;
      case 'error':
        this.options.log('info', `worker ${connection.address} reported ${message.code}: ${message.message}`);
        return;
    }
  }

  private admit(connection: Connection): void {
    clearTimeout(connection.handshakeTimer);
    connection.authenticated = true;
    connection.transport.limitFrames?.(this.options.limits.maxFrameBytes);
    const previous = this.byAddress.get(connection.address);
    if (previous && previous !== connection) {
      // The newer connection wins: a worker that reconnects must never count twice.
      this.options.engine()?.removeWorker(previous, 'replaced by a newer connection');
      previous.close('E_SESSION_REPLACED', 'a newer connection with the same identity replaced this one');
    }
    this.byAddress.set(connection.address, connection);
    const engine = this.options.engine();
    this.options.store.openSession({
      id: connection.sessionId,
      runId: engine?.runId ?? null,
      address: connection.address,
      kind: connection.kind,
      connectedAt: Date.now(),
    });
    this.options.log('info', `worker ${connection.address} (${connection.kind}) signed in`);
    if (engine) connection.send({ type: 'welcome', address: connection.address, sessionId: connection.sessionId, run: engine.runInfo() });
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    connection.closed = true;
    this.open.delete(connection);
    clearTimeout(connection.handshakeTimer);
    if (connection.quotaGroup !== undefined) this.perIp.release(connection.quotaGroup);
    connection.quotaGroup = undefined;
    if (!connection.authenticated) return;
    if (this.byAddress.get(connection.address) === connection) this.byAddress.delete(connection.address);
    // Connections can outlive the store by a tick at shutdown; their end is then not recorded.
    if (this.options.store.isOpen) this.options.store.closeSession(connection.sessionId, code, reason);
    this.options.engine()?.removeWorker(connection, reason || `connection closed (${code})`);
  }
}
