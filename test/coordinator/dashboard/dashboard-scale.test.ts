/**
 * The dashboard at 1,000 workers, in real headless Chromium: the tables stay virtualised (a few
 * dozen rows in the DOM), and a burst of 1,000 worker changes rewrites only the rows in view.
 * The engine is scripted (FakeEngine); the store, the routes and the page are the real ones.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { launchChromium } from '../../../worker-browser/chromium.js';
import { scratchDir } from '../../e2e/helpers.js';
import { buildDashboard, consoleErrors, text } from './browser-helpers.js';
import { address, FakeEngine, RUN_CONFIG } from './fake-engine.js';
import { mountDashboard } from './harness.js';

const WORKERS = 1_000;
const TX = `0x${'ab'.repeat(32)}`;

describe('the dashboard at 1,000 workers', () => {
  let browser: Browser;
  beforeAll(async () => {
    await buildDashboard();
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('keeps the DOM small and rewrites only the rows in view', async () => {
    // Prepare: a stored run with one completed round of 1,000 contributions, and 1,000 ready workers.
    const dir = scratchDir('cohort-dashboard-scale-');
    const store = new RunStore(join(dir, 'run.sqlite'));
    const engine = new FakeEngine('run-scale');
    store.createRun(engine.runId, RUN_CONFIG);
    const mounted = await mountDashboard({
      engine,
      store,
      dir,
      providers: {
        rewards: () => new Map(Array.from({ length: WORKERS }, (_, i) => [address(i), '0.0010 ETH'])),
        roundTransactions: () => new Map([[1, TX]]),
        privacy: () => ({ epsilon: 1.23, delta: 1e-5 }),
      },
    });
    const page = await browser.newPage();
    const errors = consoleErrors(page);
    try {
      engine.emit({ type: 'run-started', runId: engine.runId, resumedAfterRound: 0, parameterCount: 4 });
      for (let i = 0; i < WORKERS; i++) {
        const browserWorker = i % 2 === 1;
        engine.emit({
          type: 'worker-ready',
          address: address(i),
          kind: browserWorker ? 'browser' : 'node',
          backend: browserWorker ? { backend: 'webgpu', reason: 'fastest', adapter: 'SwiftShader (fallback)', stepsPerSecond: 3.5 } : { backend: 'wasm', reason: 'fastest', stepsPerSecond: 90 },
          examples: 600,
        });
      }
      engine.emit({ type: 'round-started', runId: engine.runId, round: 1, attempt: 1, selected: Array.from({ length: WORKERS }, (_, i) => address(i)), deadline: Date.now() + 60_000 });
      store.completeRound(
        { runId: engine.runId, round: 1, completedAt: Date.now(), durationMs: 1_000, participants: WORKERS - 10, examples: 600 * (WORKERS - 10), accuracy: 0.9, loss: 0.3, trainLoss: 0.4, secure: false },
        Array.from({ length: WORKERS - 10 }, (_, i) => ({ address: address(i), examples: 600, amount: 600 })),
        new Float32Array(4),
      );
      engine.emit({
        type: 'round-completed', runId: engine.runId, round: 1, participants: WORKERS - 10, examples: 600 * (WORKERS - 10), accuracy: 0.9, loss: 0.3, trainLoss: 0.4, durationMs: 1_000,
        dropped: Array.from({ length: 10 }, (_, i) => ({ address: address(WORKERS - 10 + i), reason: 'deadline passed' })), backends: ['wasm', 'webgpu'],
      });

      await page.setViewport({ width: 1400, height: 1000 });
      await page.goto(`${mounted.url}/dashboard`, { waitUntil: 'load' });
      await page.waitForFunction(() => document.querySelector('#stat-workers')?.textContent === '1000', { timeout: 30_000 });

      // Assert: every row is there, few are in the DOM.
      const tableState = () =>
        page.$eval('#workers-table', (t) => ({ rows: (t as HTMLElement).dataset.rows, dom: t.querySelectorAll('.vt-row').length }));
      const initial = await tableState();
      expect(initial.rows).toBe(String(WORKERS));
      expect(initial.dom).toBeLessThan(30);
      expect(await page.$eval('#contributions-table', (t) => (t as HTMLElement).dataset.rows)).toBe(String(WORKERS - 10));
      expect(await page.$eval('#contributions-table .vt-row', (r) => [r.children[4]?.textContent, r.children[5]?.getAttribute('title')])).toEqual(['0.0010 ETH', TX]);
      expect(await text(page, '#stat-epsilon')).toMatch(/^1\.230/);
      expect(await page.$eval('#incidents-table', (t) => (t as HTMLElement).dataset.rows)).toBe('10');

      // Scrolling to the end shows the last worker, still with a handful of rows.
      await page.$eval('#workers-table .vt-body', (b) => {
        b.scrollTop = b.scrollHeight;
      });
      const last = address(WORKERS - 1);
      await page.waitForSelector(`#workers-table .vt-row[data-key="${last}"]:not([hidden])`, { timeout: 30_000 });
      expect((await tableState()).dom).toBeLessThan(30);

      // Execute: all 1,000 workers leave at once.
      await page.$eval('#workers-table', (t) => {
        const w = window as unknown as { mutations: number };
        w.mutations = 0;
        new MutationObserver((records) => {
          w.mutations += records.length;
        }).observe(t, { subtree: true, childList: true, attributes: true, characterData: true });
      });
      for (let i = 0; i < WORKERS; i++) engine.emit({ type: 'worker-left', address: address(i), reason: 'connection closed (1001)' });
      mounted.dashboard.flush();
      await page.waitForFunction(() => document.querySelector('#stat-workers')?.textContent === '0 of 1000', { timeout: 30_000 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

      // Assert: only the rows in view changed, a few cells each; the status column reads 'left'.
      const mutations = await page.evaluate(() => (window as unknown as { mutations: number }).mutations);
      expect(mutations).toBeGreaterThan(0);
      expect(mutations).toBeLessThan(250);
      expect(await page.$eval(`#workers-table .vt-row[data-key="${last}"]`, (r) => r.children[1]?.textContent)).toBe('left');
      expect((await tableState()).dom).toBeLessThan(30);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await mounted.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
