/**
 * Server-sent events for the dashboard. Each page gets one `snapshot`, then one `delta` per flush
 * interval at most, holding every row that changed (see LiveRunState). One JSON text is written
 * to every page, so the cost of a flush does not grow with the number of pages.
 *
 * Limits (defaults in DEFAULT_STREAM_LIMITS): how many pages may follow at once, how many of them
 * from one address (anonymous clients could otherwise hold the whole pool), and how far a page may
 * fall behind; a page past that is disconnected, and its EventSource reconnects and starts again
 * from a fresh snapshot.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunDelta, RunSnapshot } from './api-types.js';
import type { LiveRunState } from './live-state.js';
import { PerIpQuota } from '../transport/per-ip-quota.js';

export interface StreamLimits {
  /** Pages following at once; more get 503. */
  maxClients: number;
  /** Pages following at once from one IPv4 address or IPv6 /64; more from it get 429. */
  maxClientsPerIp: number;
  /** How often changes are sent, at most. */
  flushMs: number;
  /** A comment line keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** How often the ledger and DP providers are re-read. */
  providerPollMs: number;
  /** Bytes a page may leave unread before it is disconnected. */
  maxBufferedBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxClients: 64,
  maxClientsPerIp: 8,
  flushMs: 250,
  heartbeatMs: 15_000,
  providerPollMs: 2_000,
  maxBufferedBytes: 8 * 1024 * 1024,
};

interface Client {
  response: ServerResponse;
  runId: string;
  /** The address group whose per-IP slot this stream holds. */
  group: string;
}

/** Why open() refused: the whole pool is taken, or this address's share of it. */
export type OpenResult = 'opened' | 'full' | 'address-full';

export class EventStreamHub {
  private readonly clients = new Set<Client>();
  private readonly perIp: PerIpQuota;
  private readonly flushTimer: ReturnType<typeof setInterval>;
  private readonly heartbeatTimer: ReturnType<typeof setInterval>;
  private lastProviderPoll = 0;

  constructor(
    private readonly live: LiveRunState | undefined,
    readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {
    this.perIp = new PerIpQuota(limits.maxClientsPerIp);
    this.flushTimer = setInterval(() => this.flush(), limits.flushMs);
    this.heartbeatTimer = setInterval(() => this.broadcast(undefined, ': ping\n\n'), limits.heartbeatMs);
    // The dashboard never keeps a coordinator alive on its own.
    this.flushTimer.unref();
    this.heartbeatTimer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Starts a stream for `runId` with `snapshot`; at a limit nothing is written and it says which. */
  open(request: IncomingMessage, response: ServerResponse, runId: string, snapshot: RunSnapshot): OpenResult {
    if (this.clients.size >= this.limits.maxClients) return 'full';
    const group = this.perIp.tryAcquire(request.socket.remoteAddress);
    if (group === undefined) return 'address-full';
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Reverse proxies (nginx) would otherwise hold events back.
      'x-accel-buffering': 'no',
    });
    const client: Client = { response, runId, group };
    // The first page on the live run starts from this snapshot: changes made while nobody was
    // following are in it, so they are not sent again as a delta.
    if (this.live && runId === this.live.runId && !this.followsLive()) this.live.takeDelta();
    this.clients.add(client);
    const drop = (): void => this.drop(client);
    request.once('close', drop);
    response.once('close', drop);
    this.write(client, `retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    return 'opened';
  }

  /** Forgets a stream and gives its address's slot back (once, however often it is called). */
  private drop(client: Client): void {
    if (this.clients.delete(client)) this.perIp.release(client.group);
  }

  /** Sends pending changes of the live run now (also runs every `flushMs`). */
  flush(): void {
    // Nobody watching: no store reads, no provider calls, no JSON.
    if (!this.live || !this.followsLive()) return;
    const now = Date.now();
    const pollProviders = now - this.lastProviderPoll >= this.limits.providerPollMs;
    if (pollProviders) this.lastProviderPoll = now;
    this.live.refresh(pollProviders);
    const delta: RunDelta | undefined = this.live.takeDelta();
    if (delta) this.broadcast(this.live.runId, `event: delta\ndata: ${JSON.stringify(delta)}\n\n`);
  }

  private followsLive(): boolean {
    for (const client of this.clients) if (client.runId === this.live?.runId) return true;
    return false;
  }

  close(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.heartbeatTimer);
    for (const client of [...this.clients]) {
      client.response.end();
      this.drop(client);
    }
  }

  private broadcast(runId: string | undefined, text: string): void {
    for (const client of this.clients) if (runId === undefined || client.runId === runId) this.write(client, text);
  }

  private write(client: Client, text: string): void {
    const { response } = client;
    if (response.writableEnded || response.destroyed) {
      this.drop(client);
      return;
    }
    if (response.writableLength > this.limits.maxBufferedBytes) {
      // A page this far behind reconnects and starts from a fresh snapshot instead.
      this.drop(client);
      response.destroy();
      return;
    }
    response.write(text);
  }
}
