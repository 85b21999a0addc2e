/**
 * The page's side of the dashboard API: JSON reads, the live event stream, and admin actions.
 * The admin token is kept in sessionStorage (gone when the tab closes) and sent only in the
 * `authorization` header, never in a URL.
 */
import type { AdminAction, AdminResult, ApiError, RunDelta, RunListItem, RunSnapshot } from '../api-types.js';

const TOKEN_KEY = 'cohort.adminToken';

export class AuthError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function listRuns(): Promise<{ liveRunId: string | null; runs: RunListItem[] }> {
  return getJson('/api/runs');
}

export async function getRun(runId: string): Promise<RunSnapshot> {
  return getJson(`/api/runs/${encodeURIComponent(runId)}`);
}

export interface StreamHandlers {
  snapshot(s: RunSnapshot): void;
  delta(d: RunDelta): void;
  status(state: 'live' | 'reconnecting'): void;
}

/** Follows a run's events; EventSource reconnects by itself and the server re-sends a snapshot. */
export function followRun(runId: string, handlers: StreamHandlers): () => void {
  const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/events`);
  source.addEventListener('snapshot', (e) => {
    handlers.status('live');
    handlers.snapshot(JSON.parse((e as MessageEvent<string>).data) as RunSnapshot);
  });
  source.addEventListener('delta', (e) => handlers.delta(JSON.parse((e as MessageEvent<string>).data) as RunDelta));
  source.addEventListener('error', () => handlers.status('reconnecting'));
  return () => source.close();
}

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage blocked: the token lives only as long as this page.
  }
}

/** True when the coordinator accepts `token`; throws AuthError's message otherwise. */
export async function verifyToken(token: string): Promise<void> {
  const response = await fetch('/api/admin/session', { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw await failure(response);
}

export async function runAction(runId: string, action: AdminAction, token: string): Promise<AdminResult> {
  const response = await fetch(`/api/runs/${encodeURIComponent(runId)}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(action === 'stop' ? { reason: 'stopped from the dashboard' } : {}),
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as AdminResult;
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

async function failure(response: Response): Promise<Error> {
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as Partial<ApiError>;
    if (body.message) message = body.message;
  } catch {
    // not JSON: keep the status line
  }
  return response.status === 401 || response.status === 403 ? new AuthError(response.status, message) : new Error(message);
}
