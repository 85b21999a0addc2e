/**
 * The dashboard's HTTP surface on the coordinator:
 *
 *   GET  /dashboard                   the page (and /dashboard/assets/* its script and styles)
 *   GET  /api/runs                    every run in the store, newest first
 *   GET  /api/runs/:id                one run's full view (RunSnapshot)
 *   GET  /api/runs/:id/events         the same, live: SSE `snapshot`, then coalesced `delta`s
 *                                     (64 streams in all, 8 per address; past those, 503 and 429)
 *   GET  /api/admin/session           200 when the request carries the admin token (the page checks a pasted token)
 *   POST /api/runs/:id/pause|resume|stop   admin only: 401 without the token, 403 with a wrong one
 *
 * Everything except the POSTs is read-only and open, like the rest of the coordinator's status
 * API. The token is read from a header only (see admin-token.ts); one in the URL is ignored.
 *
 * @example
 * const dashboard = registerDashboardRoutes(routes, { engine, store, gateway: () => gateway, adminToken });
 * // gateway options: observe: (address, message) => dashboard.observe(address, message)
 * // on shutdown:     dashboard.close()
 */
/* eslint-disable max-lines-per-function -- registerDashboardRoutes is the route table itself, one handler per route above, read top to bottom; split, the routes would no longer be listed in one place. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WorkerMessage } from '../../core/protocol/messages.js';
import type { RunEngine } from '../engine/run-engine.js';
import { sendJson, type HttpRoutes } from '../server/http.js';
import { checkAdminToken } from './admin-token.js';
import type { AdminAction, AdminResult, RunListItem } from './api-types.js';
import { DEFAULT_STREAM_LIMITS, EventStreamHub, type StreamLimits } from './event-stream.js';
import { runListItem, storedSnapshot, type StoreView } from './history.js';
import { LiveRunState, type EngineView, type GatewayView } from './live-state.js';
import { readProviders, reportOnce, type DashboardProviders } from './providers.js';
import { DASHBOARD_DIST, SECURITY_HEADERS, sendText, serveDashboardFile } from './static-files.js';

export interface DashboardDeps {
  engine: EngineView & Pick<RunEngine, 'pause' | 'resume' | 'stop'>;
  store: StoreView;
  /** Read lazily: the gateway is usually created after the routes. */
  gateway?: (() => GatewayView | undefined) | undefined;
  adminToken: string;
  providers?: DashboardProviders | undefined;
  log?: ((level: 'debug' | 'info' | 'warn' | 'error', message: string) => void) | undefined;
  limits?: Partial<StreamLimits> | undefined;
  /** Where the built page lives (default coordinator/dashboard/dist). */
  distDir?: string | undefined;
}

export interface DashboardHandle {
  /** Feed it the gateway's `observe` hook: it measures examples/s and last-seen times. */
  observe(address: string, message: WorkerMessage): void;
  /** Flush pending changes to every page now (tests; the hub also flushes on a timer). */
  flush(): void;
  /** Ends every open stream and stops the timers. */
  close(): void;
}

/** Largest admin request body (an optional `{ "reason": "…" }`). */
const MAX_ADMIN_BODY_BYTES = 4_096;
const ACTIONS: ReadonlySet<string> = new Set<AdminAction>(['pause', 'resume', 'stop']);

export function registerDashboardRoutes(routes: HttpRoutes, deps: DashboardDeps): DashboardHandle {
  const log = deps.log ?? (() => undefined);
  const providers = deps.providers ?? {};
  const report = reportOnce((message) => log('warn', message));
  const gateway = deps.gateway ?? (() => undefined);
  const live = new LiveRunState({ engine: deps.engine, store: deps.store, gateway, providers, report });
  const hub = new EventStreamHub(live, { ...DEFAULT_STREAM_LIMITS, ...deps.limits });
  const dist = deps.distDir ?? DASHBOARD_DIST;

  const listRuns = (): RunListItem[] => deps.store.listRuns().map((row) => runListItem(deps.store, row, live.runId));
  const snapshotOf = (runId: string) => (runId === live.runId ? live.snapshot() : storedSnapshot(deps.store, runId, readProviders(providers, runId, report)));

  const page = (request: IncomingMessage, response: ServerResponse): Promise<void> | void =>
    readOnly(request, response) ? serveDashboardFile(response, 'index.html', dist, request.method) : undefined;

  routes
    .get('/dashboard', page)
    .prefix('/dashboard/', (request, response, url) => {
      const rest = url.pathname.slice('/dashboard/'.length);
      if (rest === '') return page(request, response);
      if (!readOnly(request, response)) return undefined;
      if (rest.startsWith('assets/')) return serveDashboardFile(response, rest.slice('assets/'.length), dist, request.method);
      sendText(response, 404, `no dashboard page ${url.pathname}`);
      return undefined;
    })
    .get('/api/runs', (request, response) => {
      if (readOnly(request, response)) sendJson(response, 200, { liveRunId: live.runId, runs: listRuns() });
    })
    .get('/api/admin/session', (request, response) => {
      if (!readOnly(request, response) || !authorized(request, response, deps.adminToken)) return;
      sendJson(response, 200, { ok: true });
    })
    .prefix('/api/runs/', async (request, response, url) => {
      const [rawId = '', action, ...extra] = url.pathname.slice('/api/runs/'.length).split('/');
      const runId = safeDecode(rawId);
      if (runId === undefined || runId === '' || extra.length > 0) return notFound(response, url.pathname);

      if (action !== undefined && ACTIONS.has(action)) {
        if (request.method !== 'POST') return methodNotAllowed(response, 'POST');
        // Authorization comes first: without the token, nothing about the run is revealed.
        if (!authorized(request, response, deps.adminToken)) return undefined;
        const body = await readSmallBody(request, MAX_ADMIN_BODY_BYTES);
        if (body === undefined) return sendJson(response, 413, { error: 'E_TOO_LARGE', message: `request body over ${MAX_ADMIN_BODY_BYTES} bytes` });
        return act(runId, action as AdminAction, parseReason(body), request, response);
      }

      if (!readOnly(request, response)) return undefined;
      if (action === undefined || action === '') {
        const snapshot = snapshotOf(runId);
        return snapshot ? sendJson(response, 200, snapshot) : notFound(response, `run ${runId}`);
      }
      if (action === 'events') {
        const snapshot = snapshotOf(runId);
        if (!snapshot) return notFound(response, `run ${runId}`);
        const opened = hub.open(request, response, runId, snapshot);
        if (opened === 'full') sendJson(response, 503, { error: 'E_BUSY', message: 'too many dashboard streams are open; try again later' });
        if (opened === 'address-full') {
          sendJson(response, 429, { error: 'E_BUSY', message: `this address already follows ${hub.limits.maxClientsPerIp} dashboard streams; close one` });
        }
        return undefined;
      }
      return notFound(response, url.pathname);
    });

  function act(runId: string, action: AdminAction, reason: string | undefined, request: IncomingMessage, response: ServerResponse): void {
    const row = deps.store.getRun(runId);
    if (!row) return notFound(response, `run ${runId}`);
    if (runId !== live.runId || row.status !== 'running') {
      sendJson(response, 409, { error: 'E_RUN_NOT_ACTIVE', message: `run ${runId} is ${row.status === 'running' ? 'not run by this coordinator' : row.status}` });
      return;
    }
    if (action === 'pause') deps.engine.pause();
    else if (action === 'resume') deps.engine.resume();
    else deps.engine.stop(reason ?? 'stopped from the dashboard');
    log('info', `dashboard: ${action} run ${runId} (admin request from ${request.socket.remoteAddress ?? 'unknown'})`);
    hub.flush();
    const result: AdminResult = { ok: true, action, paused: deps.engine.isPaused, status: deps.store.getRun(runId)?.status ?? row.status };
    sendJson(response, 200, result);
  }

  return {
    observe: (address, message) => live.observe(address, message),
    flush: () => hub.flush(),
    close: () => {
      hub.close();
      live.close();
    },
  };
}

function authorized(request: IncomingMessage, response: ServerResponse, token: string): boolean {
  const check = checkAdminToken(request.headers, token);
  if (check === 'ok') return true;
  if (check === 'missing') {
    response.setHeader('www-authenticate', 'Bearer realm="cohort admin"');
    sendJson(response, 401, { error: 'E_UNAUTHORIZED', message: 'admin token required: send `authorization: Bearer <token>` (the token is in the file the coordinator printed at start)' });
  } else {
    sendJson(response, 403, { error: 'E_FORBIDDEN', message: 'wrong admin token' });
  }
  return false;
}

/** Allows GET and HEAD; answers 405 to anything else. */
function readOnly(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  methodNotAllowed(response, 'GET, HEAD');
  return false;
}

function methodNotAllowed(response: ServerResponse, allow: string): void {
  response.setHeader('allow', allow);
  sendJson(response, 405, { error: 'E_METHOD', message: `method not allowed; use ${allow}` });
}

function notFound(response: ServerResponse, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
  sendJson(response, 404, { error: 'E_NOT_FOUND', message: `no such ${what}` });
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The body as text, or undefined when it is larger than `limit` bytes. */
async function readSmallBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseReason(body: string): string | undefined {
  if (body.trim() === '') return undefined;
  try {
    const reason = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof reason === 'string' && reason.trim() !== '' ? reason.trim().slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}
