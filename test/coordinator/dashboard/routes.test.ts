/** The dashboard's HTTP API over a real socket, with a scripted engine and a real run store. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunDelta, RunSnapshot } from '../../../coordinator/dashboard/api-types.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { scratchDir } from '../../e2e/helpers.js';
import { address, FakeEngine, RUN_CONFIG } from './fake-engine.js';
import { mountDashboard, type Mounted } from './harness.js';

interface Setup {
  engine: FakeEngine;
  store: RunStore;
  mounted: Mounted;
}

describe('dashboard routes', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(): Promise<Setup> {
    const dir = scratchDir('cohort-routes-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = new RunStore(join(dir, 'run.sqlite'));
    cleanups.push(() => store.close());
    store.createRun('run-old', RUN_CONFIG, 1_000);
    store.endRun('run-old', 'failed', 'round 3 failed 2 times', 2_000);
    const engine = new FakeEngine('run-live');
    store.createRun(engine.runId, RUN_CONFIG, 3_000);
    const mounted = await mountDashboard({ engine, store, dir });
    cleanups.push(() => mounted.close());
    return { engine, store, mounted };
  }

  const post = (url: string, headers: Record<string, string> = {}, body?: string) => fetch(url, { method: 'POST', headers, body });

  it('lists runs and serves a run view; unknown paths are 404 and writes to read-only paths 405', async () => {
    const { mounted } = await setup();

    const list = (await (await fetch(`${mounted.url}/api/runs`)).json()) as { liveRunId: string; runs: Array<{ id: string; live: boolean; status: string; totalRounds: number }> };
    expect(list.liveRunId).toBe('run-live');
    expect(list.runs.map((r) => [r.id, r.live, r.status, r.totalRounds])).toEqual([
      ['run-live', true, 'running', 10],
      ['run-old', false, 'failed', 10],
    ]);
    const old = (await (await fetch(`${mounted.url}/api/runs/run-old`)).json()) as RunSnapshot;
    expect(old.incidents.map((i) => [i.kind, i.reason])).toEqual([['run-ended', 'failed: round 3 failed 2 times']]);
    expect((await fetch(`${mounted.url}/api/runs/nope`)).status).toBe(404);
    expect((await fetch(`${mounted.url}/api/runs/run-live/bogus`)).status).toBe(404);
    expect((await post(`${mounted.url}/api/runs`)).status).toBe(405);
    expect((await fetch(`${mounted.url}/dashboard/assets/..%2F..%2Froutes.ts`)).status).toBe(404);
    const page = await fetch(`${mounted.url}/dashboard`);
    expect([200, 503]).toContain(page.status);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('refuses actions without the token (401) or with a wrong one (403), before anything else', async () => {
    const { engine, mounted } = await setup();
    const pause = `${mounted.url}/api/runs/run-live/pause`;

    const missing = await post(pause);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await post(pause, { authorization: 'Bearer wrong' })).status).toBe(403);
    expect((await post(`${pause}?token=${mounted.adminToken}`)).status).toBe(401);
    expect((await post(`${mounted.url}/api/runs/no-such-run/pause`)).status).toBe(401);
    expect((await fetch(pause, { headers: { authorization: `Bearer ${mounted.adminToken}` } })).status).toBe(405);
    expect((await fetch(`${mounted.url}/api/admin/session`)).status).toBe(401);
    expect(engine.paused).toBe(false);
  });

  it('pauses, resumes and stops the live run with the token, and only the live run', async () => {
    const { engine, mounted } = await setup();
    const auth = { authorization: `Bearer ${mounted.adminToken}` };

    expect((await fetch(`${mounted.url}/api/admin/session`, { headers: auth })).status).toBe(200);
    const paused = await post(`${mounted.url}/api/runs/run-live/pause`, auth);
    expect(paused.status).toBe(200);
    expect(await paused.json()).toEqual({ ok: true, action: 'pause', paused: true, status: 'running' });
    expect(engine.paused).toBe(true);
    expect((await post(`${mounted.url}/api/runs/run-live/resume`, { 'x-cohort-admin-token': mounted.adminToken })).status).toBe(200);
    expect(engine.paused).toBe(false);
    expect((await post(`${mounted.url}/api/runs/run-live/stop`, auth, JSON.stringify({ reason: 'enough for today' }))).status).toBe(200);
    expect(engine.stopped).toBe('enough for today');

    expect((await post(`${mounted.url}/api/runs/run-old/pause`, auth)).status).toBe(409);
    expect((await post(`${mounted.url}/api/runs/no-such-run/pause`, auth)).status).toBe(404);
    expect((await post(`${mounted.url}/api/runs/run-live/stop`, auth, 'x'.repeat(5_000))).status).toBe(413);
  });

  it('streams a snapshot, then one coalesced delta for a burst of events', async () => {
    const { engine, mounted } = await setup();
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const response = await fetch(`${mounted.url}/api/runs/run-live/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseEvents(response.body!);

    const first = await events.next();
    expect(first.value?.event).toBe('snapshot');
    expect((JSON.parse(first.value!.data) as RunSnapshot).workers).toEqual([]);

    for (let i = 0; i < 200; i++) {
      engine.emit({ type: 'worker-ready', address: address(i), kind: 'node', backend: { backend: 'wasm', reason: 'fastest', stepsPerSecond: 100 }, examples: 600 });
    }
    mounted.dashboard.flush();
    const second = await events.next();
    expect(second.value?.event).toBe('delta');
    const delta = JSON.parse(second.value!.data) as RunDelta;
    expect(delta.workers).toHaveLength(200);
    expect(delta.workers?.[0]).toMatchObject({ kind: 'node', backend: 'wasm', examplesPerSecond: 3200, connected: true });
  });
});

/** Reads `event:`/`data:` pairs from an SSE body. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) yield { event, data };
    }
  }
}
