/**
 * What a volunteer sees: the page shows the connection, the backend and adapter, the round and the
 * contribution, in the DOM; it logs no console errors; and a hidden tab keeps training (the Web
 * Worker is not throttled) and says so. A screenshot is kept in test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRoutes } from '../../coordinator/server/http.js';
import { registerWorkerPageRoutes } from '../../coordinator/server/worker-page.js';
import { launchChromium } from '../../worker-browser/chromium.js';
import { launchBrowserWorkers, type BrowserWorkers } from '../../worker-browser/launch.js';
import { ARTIFACTS, browserTestConfig, PREPARE_TIMEOUT_MS, prepareBrowserTests, eventually, startTestCoordinator, waitForState, type TestCoordinator } from './helpers.js';

const ROUNDS = 2;
const STEPS = 10;

describe('the worker page', () => {
  let server: TestCoordinator;
  let tabs: BrowserWorkers | undefined;
  const lines: string[] = [];

  beforeAll(prepareBrowserTests, PREPARE_TIMEOUT_MS);
  afterAll(async () => {
    await tabs?.close();
    await server?.close();
  });

  it('shows round, backend and contribution, keeps training while hidden, and logs no errors', async () => {
    // Prepare: one tab, ready before the run starts.
    server = await startTestCoordinator(browserTestConfig({ rounds: ROUNDS, minClients: 1, maxLocalSteps: STEPS }));
    const { engine } = server.coordinator;
    engine.pause();
    tabs = await launchBrowserWorkers({
      pageUrl: server.pageUrl,
      coordinatorUrl: server.coordinatorUrl,
      count: 1,
      requireSecureAggregation: false, // a plain run: tabs refuse those unless told otherwise
      log: (_tab, line) => lines.push(line),
    });
    const page = tabs.pages[0]!;
    await eventually(() => (engine.readyCount() === 1 ? true : undefined), 60_000);

    // Execute: hide the tab behind another one, then let the run go.
    const cover = await page.browserContext().newPage();
    await cover.bringToFront();
    await eventually(async () => ((await page.evaluate(() => document.visibilityState)) === 'hidden' ? true : undefined), 10_000);
    const hiddenNote = await page.$eval('#hidden-note', (el) => !(el as HTMLElement).hidden);
    engine.resume();
    const summary = await server.coordinator.done;
    const state = await waitForState(page, (s) => s.connection === 'run ended' && !s.joined);
    const stillHidden = await page.evaluate(() => document.visibilityState);
    await cover.close();
    await page.bringToFront();

    // Assert: the hidden tab trained every round, and said it would.
    expect(summary.status, summary.reason).toBe('completed');
    expect(stillHidden).toBe('hidden');
    expect(hiddenNote).toBe(true);
    expect(state.roundsContributed).toBe(ROUNDS);

    // Assert: the DOM
    const text = (selector: string): Promise<string> => page.$eval(selector, (el) => el.textContent ?? '');
    expect(await text('#round')).toBe(String(ROUNDS));
    expect(await text('#backend')).toBe(state.backend!.backend);
    expect(['webgpu', 'webgl', 'wasm', 'cpu']).toContain(await text('#trained-on'));
    expect(await text('#backend-reason')).toMatch(/^fastest measured: /);
    expect(await text('#adapter')).toMatch(/swiftshader/i);
    expect(await text('#adapter-fallback')).toMatch(/^yes/);
    expect(await text('#isolated')).toMatch(/^yes/);
    expect(await text('#connection')).toBe('run ended');
    expect(await text('#rounds-contributed')).toBe(String(ROUNDS));
    expect(await text('#examples-trained')).toBe(String(ROUNDS * STEPS * 32));
    expect(await text('#address')).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(await text('#stage')).toBe('idle');
    expect(await page.$eval('#secure-warning', (el) => (el as HTMLElement).hidden)).toBe(true);
    expect(await page.$eval('#join', (el) => el.textContent)).toBe('Join');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'worker-page.png'), fullPage: true });
    expect(lines.filter((line) => /console\.error|page error|request failed/.test(line)), lines.join('\n')).toEqual([]);
  }, 90_000);

  // Plain http from an address that is not localhost is not a secure context.
  const lanAddress = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  it.skipIf(lanAddress === undefined)('says plainly when it is opened insecurely', async () => {
    // Prepare
    const side = createServer(registerWorkerPageRoutes(new HttpRoutes()).handle);
    await new Promise<void>((resolve) => side.listen(0, lanAddress, resolve));
    const browser = await launchChromium();
    try {
      // Execute
      const page = await browser.newPage();
      await page.goto(`http://${lanAddress}:${(side.address() as AddressInfo).port}/worker/?wallet=tab`);
      await page.evaluate(() => window.cohort.ready);

      // Assert
      expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
      expect(await page.$eval('#secure-warning', (el) => (el as HTMLElement).hidden)).toBe(false);
      expect(await page.$eval('#secure-warning', (el) => el.textContent?.replace(/\s+/g, ' '))).toMatch(/secure origins \(https, or localhost\)/);
      expect(await page.$eval('#adapter', (el) => el.textContent)).toMatch(/needs a secure origin/);
    } finally {
      await browser.close();
      side.closeAllConnections();
      side.close();
    }
  }, 60_000);
});
