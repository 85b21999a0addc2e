/**
 * A network loss mid-round: the tab's connection goes through a TCP relay that the test cuts while
 * the tab trains. The round loses its worker and is retried; the tab reconnects by itself (with
 * backoff), signs in again with the same key, and finishes the run.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowserWorkers, type BrowserWorkers } from '../../worker-browser/launch.js';
import { browserTestConfig, PREPARE_TIMEOUT_MS, prepareBrowserTests, startTestCoordinator, waitForState, type TestCoordinator } from './helpers.js';

/** A TCP relay to `target()` (asked at each connection) whose open connections can be cut at once. */
async function relay(target: () => number): Promise<{ port: number; cut(): number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target(), '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = (): number => {
    const n = open.size;
    for (const s of open) s.destroy();
    return n;
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    async close() {
      cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a tab that loses the network', () => {
  let server: TestCoordinator;
  let tabs: BrowserWorkers | undefined;
  let link: Awaited<ReturnType<typeof relay>> | undefined;

  beforeAll(prepareBrowserTests, PREPARE_TIMEOUT_MS);
  afterAll(async () => {
    await tabs?.close();
    await link?.close();
    await server?.close();
  });

  it('reconnects, signs in again and finishes the run', async () => {
    // Prepare: the plain-JS cpu backend makes a round last a few seconds, long enough to cut into.
    // The tab reaches the coordinator, page included, only through the relay: the coordinator lists
    // the relay's URL as public, since a worker signs the URL it dialled.
    link = await relay(() => server.coordinator.port);
    server = await startTestCoordinator(browserTestConfig({ rounds: 3, minClients: 1, maxLocalSteps: 25, maxRoundRetries: 2, roundTimeoutMs: 60_000 }), {
      publicUrls: [`ws://127.0.0.1:${link.port}/ws`],
    });
    tabs = await launchBrowserWorkers({
      pageUrl: `http://127.0.0.1:${link.port}/worker/`,
      count: 1,
      forceBackend: 'cpu',
      requireSecureAggregation: false, // a plain run: tabs refuse those unless told otherwise
    });
    const page = tabs.pages[0]!;

    // Execute: cut the line while round 2 trains.
    await waitForState(page, (s) => s.stage === 'training' && s.round === 2, 60_000);
    expect(link.cut()).toBeGreaterThan(0);
    const summary = await server.coordinator.done;
    const state = await waitForState(page, (s) => s.connection === 'run ended');

    // Assert: the run finished with this tab, whose key did not change.
    expect(summary.status, summary.reason).toBe('completed');
    expect(summary.rounds).toBe(3);
    expect(server.coordinator.store.roundFailures(summary.runId).length).toBeGreaterThanOrEqual(1);
    expect(summary.workers).toHaveLength(1);
    expect(summary.workers[0]?.address).toBe(state.address);
    expect(summary.workers[0]?.roundsParticipated).toBe(3);
    expect(state.roundsContributed).toBe(3);
    expect(state.log.some((line) => /disconnected .*reconnecting/.test(line))).toBe(true);
    expect(state.lastError).toBeUndefined();
  }, 90_000);
});
