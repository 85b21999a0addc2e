/**
 * The dashboard in real headless Chromium, during a real run: a coordinator in-process on a temp
 * store, two `cohort worker` processes on wasm training the 2NN on MNIST shards.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../../coordinator/engine/events.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../../coordinator/app/start-coordinator.js';
import { launchChromium } from '../../../worker-browser/chromium.js';
import { eventually, scratchDir, spawnCohort, type CohortProcess } from '../../e2e/helpers.js';
import { buildDashboard, consoleErrors, text } from './browser-helpers.js';
import { parsePrometheusText, sampleValue } from '../metrics/prometheus-text.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const ROUNDS = 6;

describe('the dashboard during a real run', () => {
  let browser: Browser;
  const processes: CohortProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    await buildDashboard();
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('shows the workers, rounds and accuracy curve live; actions need the token; /metrics moves', async () => {
    // Prepare: coordinator, dashboard + metrics around it, the page, then the workers.
    const dir = scratchDir('cohort-dashboard-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const coordinator: Coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: ROUNDS,
        minClients: 2,
        roundTimeoutMs: 60_000,
        maxRoundRetries: 1,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'adam',
        lr: 0.002,
        maxLocalSteps: 10,
        partition: { kind: 'iid', seed: 5 },
        seed: 5,
        evaluation: 'mnist',
        keepCheckpoints: 1,
        secureAggregation: false,
      }),
    });
    cleanups.push(() => coordinator.close());
    const { engine } = coordinator;
    // The coordinator serves the dashboard and /metrics itself, with the token in a 0600 file.
    const mounted = { url: coordinator.httpUrl, adminToken: readFileSync(coordinator.adminTokenFile, 'utf8').trim() };
    expect(statSync(coordinator.adminTokenFile).mode & 0o777).toBe(0o600);
    expect(coordinator.dashboardUrl).toBe(`${coordinator.httpUrl}/dashboard`);
    const events: EngineEvent[] = [];
    engine.on((e) => events.push(e));
    const scrape = async () => parsePrometheusText(await (await fetch(`${mounted.url}/metrics`)).text());
    expect(sampleValue(await scrape(), 'cohort_rounds_completed_total')).toBe(0);

    const page: Page = await browser.newPage();
    cleanups.push(() => page.close());
    const errors = consoleErrors(page);
    await page.setViewport({ width: 1440, height: 1250 });
    await page.goto(`${mounted.url}/dashboard`, { waitUntil: 'load' });
    await page.waitForSelector('#run-view');
    // Unlock actions with the token from the 0600 file, as a researcher would paste it.
    await page.type('#admin-token', mounted.adminToken);
    await page.click('#admin-unlock');
    await page.waitForSelector('#action-pause:not([disabled])');

    for (let i = 0; i < 2; i++) {
      const p = spawnCohort(['worker', '--coordinator', coordinator.wsUrl, '--key', join(dir, `w${i}.key`), '--shard', `${i}/2`, '--backend', 'wasm']);
      processes.push(p);
    }

    // Execute + assert: refusals without (or with a wrong) token, from outside the page.
    await eventually(() => (engine.completedRounds >= 1 ? true : undefined), 120_000, 50);
    const pauseUrl = `${mounted.url}/api/runs/${encodeURIComponent(engine.runId)}/pause`;
    expect((await fetch(pauseUrl, { method: 'POST' })).status).toBe(401);
    expect((await fetch(pauseUrl, { method: 'POST', headers: { authorization: 'Bearer not-the-token' } })).status).toBe(403);
    expect((await fetch(pauseUrl, { method: 'POST', headers: { 'x-cohort-admin-token': 'nope' } })).status).toBe(403);
    expect((await fetch(`${pauseUrl}?token=${mounted.adminToken}`, { method: 'POST' })).status).toBe(401);
    expect(engine.isPaused).toBe(false);

    // Pause from the page: the round in progress may finish, then no new round starts.
    await page.click('#action-pause');
    await eventually(() => (engine.isPaused ? true : undefined), 30_000, 20);
    await page.waitForSelector('#paused-badge:not([hidden])');
    await page.waitForSelector('#action-resume:not([disabled])');
    await eventually(() => {
      const last = events.findLast((e) => e.type === 'round-started' || e.type === 'round-completed' || e.type === 'round-failed');
      return last?.type !== 'round-started' ? true : undefined;
    }, 60_000, 50);
    const roundsWhenPaused = engine.completedRounds;
    expect(roundsWhenPaused).toBeLessThan(ROUNDS);
    const midRun = await scrape();
    expect(sampleValue(midRun, 'cohort_rounds_completed_total')).toBe(roundsWhenPaused);
    expect(sampleValue(midRun, 'cohort_workers_connected', { kind: 'node', backend: 'wasm' })).toBe(2);
    expect(sampleValue(midRun, 'cohort_run_paused')).toBe(1);
    expect(sampleValue(midRun, 'cohort_bytes_received_total')).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(engine.completedRounds).toBe(roundsWhenPaused);

    // Resume from the page; take the README screenshot while the last rounds run.
    await page.click('#action-resume');
    await eventually(() => (engine.completedRounds >= ROUNDS - 1 ? true : undefined), 60_000, 20);
    await page.waitForFunction((n) => document.querySelector('#stat-rounds')?.textContent === String(n), { timeout: 30_000 }, ROUNDS - 1);
    const shot = join(ROOT, 'test-artifacts', 'dashboard.png');
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    // The README's picture is refreshed only on request, so test runs leave the tree clean.
    if (process.env.COHORT_UPDATE_DOCS === '1') copyFileSync(shot, join(ROOT, 'docs', 'dashboard.png'));

    const summary = await coordinator.done;
    expect(summary.status).toBe('completed');
    expect(summary.rounds).toBe(ROUNDS);

    // The page caught up with the end of the run.
    await page.waitForFunction((n) => document.querySelector('#round-counter')?.textContent === `${n} / ${n}`, { timeout: 30_000 }, ROUNDS);
    expect(await text(page, '#run-status')).toBe('completed');
    expect(await text(page, '#stat-rounds')).toBe(String(ROUNDS));
    expect(await page.$eval('#workers-table', (e) => (e as HTMLElement).dataset.rows)).toBe('2');
    expect(await page.$$eval('#workers-table .vt-row:not([hidden])', (rows) => rows.length)).toBe(2);
    expect(await page.$eval('#rounds-table', (e) => (e as HTMLElement).dataset.rows)).toBe(String(ROUNDS));
    expect(await page.$eval('#contributions-table', (e) => (e as HTMLElement).dataset.rows)).toBe('2');
    const backends = await page.$$eval('#workers-table .vt-row:not([hidden])', (rows) => rows.map((r) => r.children[3]?.textContent));
    expect(backends).toEqual(['wasm', 'wasm']);
    // The accuracy chart holds one point per round, and its canvas has the curve's green in it.
    expect(await page.$eval('#accuracy-chart', (e) => (e as HTMLElement).dataset.points)).toBe(String(ROUNDS));
    const curvePixels = await page.$eval('#accuracy-chart canvas', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 1]! > 150 && data[i]! < 120 && data[i + 2]! < 170 && data[i + 3]! > 0) n += 1;
      return n;
    });
    expect(curvePixels).toBeGreaterThan(50);

    const after = await scrape();
    expect(sampleValue(after, 'cohort_rounds_completed_total')).toBe(ROUNDS);
    expect(after.types.get('cohort_stage_duration_seconds')).toBe('histogram');
    expect(sampleValue(after, 'cohort_stage_duration_seconds_count', { stage: 'train' })).toBe(ROUNDS);
    expect(errors).toEqual([]);
  }, 240_000);
});
