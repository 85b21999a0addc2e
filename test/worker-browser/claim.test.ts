/**
 * Claiming from the worker page, end to end: a real anvil with a funded ledger run, a coordinator
 * recording every round into it, a `cohort worker` process and one Chromium tab training together.
 * The tab's Rewards panel must show what the ledger owes it, and its Claim button must get exactly
 * that paid to the tab's own address, signed by the tab's key, as the chain's Claimed event says.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet, formatEther, parseEther, toBeHex } from 'ethers';
import type { Browser, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLedger } from '../../contracts/ledger-client.js';
import { claimRecords } from '../../contracts/ledger-events.js';
import { verifyRewardProof } from '../../contracts/merkle.js';
import type { AttachedLedger } from '../../coordinator/ledger/attach.js';
import { enqueueRound, type LedgerBinding } from '../../coordinator/ledger/outbox.js';
import { registerRewardsRoutes } from '../../coordinator/ledger/rewards-route.js';
import { HttpRoutes } from '../../coordinator/server/http.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { launchChromium } from '../../worker-browser/chromium.js';
import { browserWorkerUrl } from '../../worker-browser/launch.js';
import { spawnCohort, type CohortProcess } from '../e2e/helpers.js';
import { startLedgerChain, type LedgerChain } from '../coordinator/ledger/chain-fixture.js';
import { completeRound, tempStore, work } from '../coordinator/ledger/helpers.js';
import { ARTIFACTS, browserTestConfig, eventually, PREPARE_TIMEOUT_MS, prepareBrowserTests, scratchDir, waitForState } from './helpers.js';

const ROUNDS = 2;

/** An amount cell of the panel: its text and its exact wei (data-wei). */
const cell = (page: Page, id: string): Promise<{ text: string; wei: string }> =>
  page.$eval(`#${id}`, (node) => ({ text: node.textContent ?? '', wei: (node as HTMLElement).dataset.wei ?? '' }));

describe('the worker page claims its reward', () => {
  const dir = scratchDir('cohort-browser-claim-');
  const consoleErrors: string[] = [];
  let chain: LedgerChain | undefined;
  let coordinator: Coordinator | undefined;
  let node: CohortProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(prepareBrowserTests, PREPARE_TIMEOUT_MS);
  afterAll(async () => {
    node?.kill('SIGKILL');
    await browser?.close();
    await coordinator?.close();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the earned amount, and Claim pays the tab exactly its cumulative reward', async () => {
    // Prepare: a funded ledger run, a coordinator recording into it, a Node worker and a tab
    chain = await startLedgerChain({ rounds: ROUNDS, budgetWei: parseEther('0.3') });
    coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: browserTestConfig({ rounds: ROUNDS, minClients: 2, maxLocalSteps: 5, roundTimeoutMs: 60_000 }),
      ledger: { config: chain.config, privateKey: chain.coordinatorKey },
    });
    const key = join(dir, 'node.key');
    writeFileSync(key, `${Wallet.createRandom().privateKey}\n`, { mode: 0o600 });
    chmodSync(key, 0o600);
    node = spawnCohort(['worker', '--coordinator', coordinator.wsUrl, '--key', key, '--shard', '1/2', '--backend', 'wasm']);
    browser = await launchChromium();
    const page = await browser.newPage();
    // With the URL: a console error of a failed load names only its status.
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(`${m.text()} ${m.location().url ?? ''}`)));
    page.on('pageerror', (error) => void consoleErrors.push(`page error: ${String(error)}`));
    await page.goto(browserWorkerUrl(`${coordinator.httpUrl}/worker/`, { shard: { index: 0, count: 2 }, backend: 'wasm', requireSecureAggregation: false }));

    // Execute: the run, and every round's record on chain
    const summary = await coordinator.done;
    expect(summary.status, summary.reason).toBe('completed');
    expect(await coordinator.ledger!.drain(30_000)).toBe(true);
    const { address } = await waitForState(page, (s) => s.roundsContributed === ROUNDS);
    const cumulative = coordinator.ledger!.rewardTree().amountOf(address!);
    expect(cumulative).toBeGreaterThan(0n);

    // Assert: the panel refreshed itself after the last round and shows what the ledger owes
    await eventually(async () => ((await cell(page, 'rewards-earned')).wei === cumulative.toString() ? true : undefined), 30_000, 250);
    expect((await cell(page, 'rewards-earned')).text).toBe(`${formatEther(cumulative)} ETH`);
    expect((await cell(page, 'rewards-claimed')).wei).toBe('0');
    expect((await cell(page, 'rewards-claimable')).wei).toBe(cumulative.toString());
    expect(await page.$eval('#rewards-round', (n) => n.textContent)).toBe(`round ${ROUNDS}`);

    // Execute: Claim, from an address with gas but no other help
    await chain.provider.send('anvil_setBalance', [address, toBeHex(parseEther('1'))]);
    await page.click('[data-testid=rewards-claim]');
    const txHash = await eventually(async () => {
      const shown = await page.$eval('#rewards-tx', (n) => n.textContent ?? '');
      return /^0x[0-9a-f]{64}$/.test(shown) ? shown : undefined;
    }, 30_000, 250).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\npanel: ${JSON.stringify(await page.evaluate(() => window.cohort.rewards()))}`);
    });

    // Assert: the chain paid the tab's address exactly its cumulative amount, in that transaction
    const claims = await claimRecords(chain.reader, chain.chainRunId, { account: address! });
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ account: address, amount: cumulative, cumulativeAmount: cumulative, txHash });
    await eventually(async () => ((await cell(page, 'rewards-claimable')).wei === '0' ? true : undefined), 10_000, 250);
    expect((await cell(page, 'rewards-claimed')).wei).toBe(cumulative.toString());
    expect(await page.$eval('[data-testid=rewards-claim]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    expect((await page.evaluate(() => window.cohort.rewards())).error).toBeUndefined();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'worker-page-claimed.png'), fullPage: true });
    // Until a round of the tab's is on chain, /api/rewards answers 404 E_LEDGER_NOT_IN_TREE, which Chromium logs.
    expect(consoleErrors.filter((line) => !/status of 404 .*\/api\/rewards\/0x/.test(line))).toEqual([]);
  }, 90_000);
});

describe('GET /api/rewards/:address', () => {
  it('proves against the latest root on chain, never a pending round, and says when there is no ledger', async () => {
    // Prepare: round 1 on chain, round 2 still in the outbox; a chain that does not answer
    const t = tempStore('run-1');
    const ledgerAddress = Wallet.createRandom().address;
    const binding: LedgerBinding = { chainId: 31337, ledgerAddress, chainRunId: 4n, fromBlock: 0, policy: { budgetWei: 300n, rounds: 3 } };
    const [a, b] = [Wallet.createRandom().address, Wallet.createRandom().address];
    completeRound(t.store, 'run-1', 1, [work(a, 10), work(b, 30)], (commit) => void enqueueRound(t.store.ledger, { ...commit, binding }));
    t.store.ledger.markSent('run-1', 1, { txHash: `0x${'1'.repeat(64)}`, outcome: 'recorded' });
    completeRound(t.store, 'run-1', 2, [work(a, 10)], (commit) => void enqueueRound(t.store.ledger, { ...commit, binding }));
    const onChainRoot = t.store.ledger.outboxRows('run-1')[0]!.payload.cumulativeRoot;
    const provider = new JsonRpcProvider('http://127.0.0.1:9', 31337, { staticNetwork: true });
    const ledger = { binding, ledger: connectLedger(ledgerAddress, provider) } as unknown as AttachedLedger;
    const rpcUrl = 'http://rpc.example:8545';
    const withLedger = registerRewardsRoutes(new HttpRoutes(), { ledger, store: t.store, runId: 'run-1', rpcUrl, chainTimeoutMs: 1_000 });
    const without = registerRewardsRoutes(new HttpRoutes(), { ledger: undefined, store: t.store, runId: 'run-1', rpcUrl: undefined });
    const servers = [createServer(withLedger.handle), createServer(without.handle)];
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
    const [paid, unpaid] = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/rewards/`);
    const get = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await fetch(url);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    try {
      // Execute
      const mine = await get(`${paid}${a.toLowerCase()}`);
      const stranger = await get(`${paid}${Wallet.createRandom().address}`);
      const garbage = await get(`${paid}not-an-address`);
      const noLedger = await get(`${unpaid}${a}`);

      // Assert: round 1's numbers (a: 100 × 10/40), not round 2's pending 125
      expect(mine.status).toBe(200);
      expect(mine.body).toMatchObject({ enabled: true, account: a, round: 1, root: onChainRoot, cumulative: '25', chain: { rpcUrl, chainId: 31337, ledger: ledgerAddress, run: '4' } });
      expect(verifyRewardProof(onChainRoot, a, 25n, mine.body.proof as string[])).toBe(true);
      // The chain did not answer: what was paid is unknown, so neither it nor claimable is guessed.
      expect(mine.body).not.toHaveProperty('claimed');
      expect(mine.body).not.toHaveProperty('claimable');
      expect(stranger).toMatchObject({ status: 404, body: { error: 'E_LEDGER_NOT_IN_TREE' } });
      expect(garbage.status).toBe(400);
      expect(noLedger).toEqual({ status: 200, body: { enabled: false } });
    } finally {
      provider.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      t.cleanup();
    }
  });
});
