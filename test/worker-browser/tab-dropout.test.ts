/**
 * Closing a tab mid-round is an ordinary dropout: its socket closes, the coordinator drops it from
 * the round at once (no waiting for the deadline), and the round completes with the survivors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowserWorkers, type BrowserWorkers } from '../../worker-browser/launch.js';
import { browserTestConfig, PREPARE_TIMEOUT_MS, prepareBrowserTests, eventually, startTestCoordinator, waitForState, type TestCoordinator } from './helpers.js';

const ROUND_TIMEOUT_MS = 60_000;

describe('a tab closed mid-round', () => {
  let server: TestCoordinator;
  let tabs: BrowserWorkers | undefined;

  beforeAll(prepareBrowserTests, PREPARE_TIMEOUT_MS);
  afterAll(async () => {
    await tabs?.close();
    await server?.close();
  });

  it('drops out, and the round completes with the other tabs', async () => {
    // Prepare: three tabs, all selected for round 1. The one to close trains on the plain-JS cpu
    // backend (~0.1–0.2 s a step), so it is still training when the wasm tabs are done.
    server = await startTestCoordinator(browserTestConfig({ rounds: 2, minClients: 2, maxLocalSteps: 30, roundTimeoutMs: ROUND_TIMEOUT_MS }));
    const { engine } = server.coordinator;
    engine.pause();
    tabs = await launchBrowserWorkers({
      pageUrl: server.pageUrl,
      coordinatorUrl: server.coordinatorUrl,
      count: 3,
      forceBackend: ['wasm', 'wasm', 'cpu'],
      requireSecureAggregation: false, // a plain run: tabs refuse those unless told otherwise
    });
    await eventually(() => (engine.readyCount() === 3 ? true : undefined), 60_000);
    const leaving = await waitForState(tabs.pages[2]!, (s) => s.address !== undefined);
    engine.resume();

    // Execute: close the slow tab while it trains round 1.
    await waitForState(tabs.pages[2]!, (s) => s.stage === 'training' && s.round === 1, 30_000);
    await tabs.closeTab(2);
    const summary = await server.coordinator.done;

    // Assert
    expect(summary.status, summary.reason).toBe('completed');
    const rounds = server.coordinator.store.rounds(summary.runId);
    expect(rounds.map((r) => r.participants)).toEqual([2, 2]);
    // Dropped as soon as its socket closed, not at the deadline.
    expect(rounds[0]!.durationMs).toBeLessThan(ROUND_TIMEOUT_MS / 2);
    const gone = summary.workers.find((w) => w.address === leaving.address);
    expect(gone?.dropouts).toBe(1);
    expect(gone?.roundsParticipated).toBe(0);
    const [first, second] = await Promise.all(tabs.pages.slice(0, 2).map((page) => waitForState(page, (s) => s.connection === 'run ended')));
    expect(first?.roundsContributed).toBe(2);
    expect(second?.roundsContributed).toBe(2);
  }, 90_000);
});
