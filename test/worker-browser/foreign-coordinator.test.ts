/**
 * Attack: a link to the worker page with a foreign `?coordinator=` and `autostart=1`. The page must
 * not connect, sign in or even look up rewards there until the volunteer confirms that coordinator;
 * once confirmed, the tab signs the URL it dialled, and (by default) refuses a run without secure
 * aggregation. Declining the prompt reloads the page with its own coordinator.
 *
 * Real parts: headless Chromium, the built worker page served by a real coordinator, and a hostile
 * coordinator that is a real WebSocket server speaking the protocol.
 */
import { verifyMessage } from 'ethers';
import type { Browser, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../core/protocol/codec.js';
import { challengeText } from '../../core/protocol/identity.js';
import { PROTOCOL_VERSION } from '../../core/protocol/messages.js';
import { launchChromium } from '../../worker-browser/chromium.js';
import { startHostileCoordinator, type HostileCoordinator } from '../security/hostile-coordinator.js';
import { browserTestConfig, pageState, PREPARE_TIMEOUT_MS, prepareBrowserTests, startTestCoordinator, waitForState, type TestCoordinator } from './helpers.js';

const NONCE = `0x${'22'.repeat(32)}`;

describe('a link to a foreign coordinator with autostart=1', () => {
  let server: TestCoordinator | undefined;
  let evil: HostileCoordinator | undefined;
  let browser: Browser | undefined;

  beforeAll(prepareBrowserTests, PREPARE_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await evil?.close();
    await server?.close();
  });

  async function open(query: Record<string, string>): Promise<Page> {
    const page = await (await browser!.createBrowserContext()).newPage();
    const url = new URL(server!.pageUrl);
    for (const [k, v] of Object.entries({ shard: '0/1', autostart: '1', wallet: 'tab', backend: 'cpu', ...query })) url.searchParams.set(k, v);
    await page.goto(url.href, { waitUntil: 'load' });
    // Boot has finished, autostart's join() included.
    await page.evaluate(() => window.cohort.ready);
    return page;
  }

  beforeAll(async () => {
    server = await startTestCoordinator(browserTestConfig({ rounds: 1, minClients: 1, maxLocalSteps: 5 }));
    evil = await startHostileCoordinator((socket) =>
      socket.send(encodeMessage({ type: 'challenge', protocol: PROTOCOL_VERSION, coordinatorId: 'cohort-evil', coordinatorUrl: 'ws://127.0.0.1:1/ws', nonce: NONCE })),
    );
    browser = await launchChromium();
  }, PREPARE_TIMEOUT_MS);

  it('does not sign in before the volunteer confirms; then signs the dialled URL and refuses a plain run', async () => {
    // Prepare + execute: open the link
    const page = await open({ coordinator: evil!.url });

    // Assert: nothing joined, nothing connected, the prompt names the foreign coordinator
    const before = await pageState(page);
    expect(before.coordinatorUnconfirmed).toBe(true);
    expect(before.joined).toBe(false);
    expect(before.connection).toBe('not joined');
    expect(await page.$eval('#coordinator-confirm', (el) => (el as HTMLElement).hidden)).toBe(false);
    expect(await page.$eval('#confirm-foreign-url', (el) => el.textContent)).toBe(evil!.url);
    expect(evil!.connectionCount()).toBe(0);

    // Execute: the volunteer confirms
    await page.click('#confirm-foreign');
    const hello = await evil!.next('hello');

    // Assert: the tab signed the URL it dialled (not the one the challenge named), with its own key
    const { address } = await pageState(page);
    expect(hello.address).toBe(address);
    expect(hello.coordinatorUrl).toBe(evil!.url);
    const signed = challengeText({ coordinatorId: 'cohort-evil', coordinatorUrl: evil!.url, nonce: NONCE, protocol: PROTOCOL_VERSION });
    expect(verifyMessage(signed, hello.signature)).toBe(address);

    // Execute: the coordinator welcomes it to a run without secure aggregation
    evil!.send({
      type: 'welcome',
      address: hello.address,
      sessionId: 'evil-session',
      run: { runId: 'run-plain', model: { kind: 'builtin', name: '2nn' }, parameterCount: 8, partition: { kind: 'iid', seed: 1 }, secureAggregation: false },
    });
    const refusal = await evil!.next('error');

    // Assert: the tab refuses by default (E_SECAGG_REQUIRED), never gets ready, and says why
    expect(refusal.code).toBe('E_SECAGG_REQUIRED');
    const after = await waitForState(page, (s) => !s.joined && s.lastError !== undefined);
    expect(after.lastError).toMatch(/E_SECAGG_REQUIRED/);
    expect(evil!.received.some((m) => m.type === 'ready')).toBe(false);
  }, 120_000);

  it('declining reloads the page with its own coordinator, which it then joins', async () => {
    const page = await open({ coordinator: evil!.url, requireSecureAggregation: '0' });
    const connectionsBefore = evil!.connectionCount();
    // The prompt also says the link lets the tab join plain runs.
    expect(await page.$eval('#confirm-plain-note', (el) => (el as HTMLElement).hidden)).toBe(false);

    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#use-own-coordinator')]);
    await page.evaluate(() => window.cohort.ready);

    expect(new URL(page.url()).searchParams.has('coordinator')).toBe(false);
    const state = await pageState(page);
    expect(state.coordinatorUnconfirmed).toBe(false);
    expect(state.coordinatorUrl).toBe(`ws://${new URL(server!.pageUrl).host}/ws`);
    // Signed in to the page's own coordinator: it welcomed the tab to its run.
    await waitForState(page, (s) => s.runId === server!.coordinator.engine.runId, 60_000);
    expect(evil!.connectionCount()).toBe(connectionsBefore);
  }, 120_000);
});
