/**
 * The browser tab's lifecycle (issue 10, point 4), in real headless Chromium:
 * - a tab hidden behind another tab (document.visibilityState 'hidden') keeps training in its Web
 *   Worker, and its rounds complete;
 * - the page warns before it is closed during a round (a real beforeunload dialog), and not when idle;
 * - a tab closed mid-round is an ordinary dropout, and reopened in the same browser profile it keeps
 *   its IndexedDB key, signs in with the same address and rejoins the run.
 */
import type { Dialog, Page } from 'puppeteer';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowserWorkers, type BrowserWorkers } from '../../worker-browser/launch.js';
import { browserTestConfig, eventually, PREPARE_TIMEOUT_MS, prepareBrowserTests, startTestCoordinator, waitForState, type TestCoordinator } from './helpers.js';

const visibility = (page: Page): Promise<string> => page.evaluate(() => document.visibilityState);
const closeWarningArmed = (page: Page): Promise<boolean> => page.evaluate(() => window.cohort.closeWarningArmed());

/** Asks the tab to close as a volunteer would (beforeunload runs); resolves with the dialog shown, if any. */
async function tryToClose(page: Page): Promise<Dialog | undefined> {
  // Chromium shows a beforeunload prompt only on a page the user has interacted with.
  await page.mouse.click(2, 2);
  const dialog = new Promise<Dialog | undefined>((resolve) => {
    page.once('dialog', (shown) => resolve(shown));
    page.once('close', () => resolve(undefined));
  });
  await page.close({ runBeforeUnload: true });
  const shown = await dialog;
  await shown?.dismiss(); // stay on the page
  return shown;
}

describe('a browser tab in the background, closed and reopened', () => {
  let server: TestCoordinator | undefined;
  let tabs: BrowserWorkers | undefined;

  beforeAll(prepareBrowserTests, PREPARE_TIMEOUT_MS);
  afterEach(async () => {
    await tabs?.close();
    await server?.close();
    tabs = undefined;
    server = undefined;
  });

  it('keeps training while hidden behind another tab, and its rounds complete', async () => {
    // Prepare: one tab on the plain-JS cpu backend (a round lasts seconds), hidden before round 1.
    server = await startTestCoordinator(browserTestConfig({ rounds: 2, minClients: 1, maxLocalSteps: 25, roundTimeoutMs: 60_000 }));
    const { engine } = server.coordinator;
    engine.pause();
    tabs = await launchBrowserWorkers({ pageUrl: server.pageUrl, coordinatorUrl: server.coordinatorUrl, count: 1, forceBackend: 'cpu', requireSecureAggregation: false });
    const training = tabs.pages[0]!;
    await eventually(() => (engine.readyCount() === 1 ? true : undefined), 60_000);
    const front = await training.browserContext().newPage();
    await front.goto('about:blank');
    await front.bringToFront();
    expect(await visibility(training)).toBe('hidden');
    // Counts any return to visible, so the test shows the tab stayed hidden the whole run.
    await training.evaluate(() => {
      const seen = globalThis as { shownAgain?: number };
      seen.shownAgain = 0;
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') seen.shownAgain = (seen.shownAgain ?? 0) + 1;
      });
    });
    const idle = await waitForState(training, (s) => s.hidden && s.stage === 'waiting');
    expect(await closeWarningArmed(training)).toBe(false);

    // Execute
    engine.resume();
    await waitForState(training, (s) => s.stage === 'training' && s.round === 1, 30_000);
    const armedWhileTraining = await closeWarningArmed(training);
    const summary = await server.coordinator.done;
    const ended = await waitForState(training, (s) => s.connection === 'run ended');

    // Assert: both rounds completed with the hidden tab, which stayed hidden throughout.
    expect(armedWhileTraining).toBe(true);
    expect(summary.status, summary.reason).toBe('completed');
    expect(summary.rounds).toBe(2);
    expect(summary.workers.map((w) => [w.address, w.roundsParticipated])).toEqual([[idle.address, 2]]);
    expect(ended.roundsContributed).toBe(2);
    expect(ended.hidden).toBe(true);
    expect(await visibility(training)).toBe('hidden');
    expect(await training.evaluate(() => (globalThis as { shownAgain?: number }).shownAgain)).toBe(0);
  }, 120_000);

  it('warns before closing mid-round; closed, it drops out; reopened, it rejoins with the same address', async () => {
    // Prepare: a fast wasm tab and a slow cpu tab, both selected for round 1.
    server = await startTestCoordinator(browserTestConfig({ rounds: 3, minClients: 1, maxLocalSteps: 60, roundTimeoutMs: 60_000 }));
    const { engine, store } = server.coordinator;
    engine.pause();
    tabs = await launchBrowserWorkers({
      pageUrl: server.pageUrl,
      coordinatorUrl: server.coordinatorUrl,
      count: 2,
      forceBackend: ['wasm', 'cpu'],
      requireSecureAggregation: false,
    });
    const slow = tabs.pages[1]!;
    const profile = slow.browserContext();
    const url = slow.url();
    await eventually(() => (engine.readyCount() === 2 ? true : undefined), 60_000);
    const before = await waitForState(slow, (s) => s.address !== undefined && s.stage === 'waiting');
    expect(await closeWarningArmed(slow)).toBe(false);
    engine.resume();

    // Execute: mid-round 1, the volunteer tries to close the tab (and stays), then closes it.
    await waitForState(slow, (s) => s.stage === 'training' && s.round === 1, 30_000);
    engine.pause(); // round 2 waits for the reopened tab
    const prompt = await tryToClose(slow);
    expect(prompt?.type()).toBe('beforeunload');
    expect(slow.isClosed()).toBe(false);
    await tabs.closeTab(1);
    await eventually(() => (store.rounds(engine.runId).length === 1 ? true : undefined), 60_000);
    const reopened = await profile.newPage();
    await reopened.goto(url, { waitUntil: 'load' });
    const back = await waitForState(reopened, (s) => s.runId !== undefined && s.stage === 'waiting');
    await eventually(() => (engine.readyCount() === 2 ? true : undefined), 30_000);
    expect(await closeWarningArmed(reopened)).toBe(false);
    engine.resume();
    const summary = await server.coordinator.done;
    const ended = await waitForState(reopened, (s) => s.connection === 'run ended');

    // Assert: round 1 completed without the closed tab; the reopened one is the same worker.
    expect(summary.status, summary.reason).toBe('completed');
    expect(store.rounds(summary.runId).map((r) => r.participants)).toEqual([1, 2, 2]);
    expect(back.address).toBe(before.address);
    const same = summary.workers.filter((w) => w.address === before.address);
    expect(same).toHaveLength(1);
    expect(same[0]?.dropouts).toBe(1);
    expect(same[0]?.roundsParticipated).toBe(2);
    expect(ended.roundsContributed).toBe(2);
    // Idle again (the run ended): the page closes without a prompt.
    expect(await tryToClose(reopened)).toBeUndefined();
    expect(reopened.isClosed()).toBe(true);
  }, 180_000);
});
