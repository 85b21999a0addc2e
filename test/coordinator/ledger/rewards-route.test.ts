// GET /api/rewards/ADDRESS on a run with a challenge window, over a real HTTP server on 127.0.0.1
// and a real anvil: the proof it serves is for the root the chain lets workers claim against, so
// while a newer root waits out its window the page gets the previous one's proof, and it pays.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { claim, connectLedger, runStatus, walletSigner } from '../../../contracts/ledger-client.js';
import { attachLedger, type AttachedLedger } from '../../../coordinator/ledger/attach.js';
import { registerRewardsRoutes } from '../../../coordinator/ledger/rewards-route.js';
import { HttpRoutes } from '../../../coordinator/server/http.js';
import { FAST_SENDER, startLedgerChain, type LedgerChain } from './chain-fixture.js';
import { completeRound, tempStore, work, type TempStore } from './helpers.js';

const WINDOW = 600;

let chain: LedgerChain | undefined;
let t: TempStore | undefined;
let attached: AttachedLedger | undefined;
let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await attached?.close();
  t?.cleanup();
  await chain?.stop();
  [chain, t, attached, server] = [undefined, undefined, undefined, undefined];
});

interface Body { round?: number; root?: string; cumulative?: string; proof?: string[]; error?: string }

describe('rewards route with a challenge window', () => {
  it('serves proofs for the claimable root, not for a root still in its window', async () => {
    chain = await startLedgerChain({ rounds: 3, challengeWindowSeconds: WINDOW });
    const c = chain;
    const worker = c.anvil.accounts[3] ?? '';
    t = tempStore('run-1');
    attached = await attachLedger({ store: t.store, runId: 'run-1', config: c.config, privateKey: c.coordinatorKey, sender: FAST_SENDER });
    const routes = registerRewardsRoutes(new HttpRoutes(), { ledger: attached, store: t.store, runId: 'run-1', rpcUrl: c.anvil.rpcUrl });
    server = createServer(routes.handle);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/rewards/${worker}`;
    const get = async (): Promise<{ status: number; body: Body }> => {
      const res = await fetch(url);
      return { status: res.status, body: (await res.json()) as Body };
    };
    const passWindow = async (): Promise<void> => {
      await c.provider.send('evm_increaseTime', [WINDOW + 1]);
      await c.provider.send('evm_mine', []);
    };

    completeRound(t.store, 'run-1', 1, [work(worker, 10)], attached.onRoundCommit);
    expect(await attached.drain(10_000)).toBe(true);
    expect((await get()).status).toBe(404); // recorded, but nothing is claimable yet
    await passWindow();
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.body.round).toBe(1);

    completeRound(t.store, 'run-1', 2, [work(worker, 10)], attached.onRoundCommit);
    expect(await attached.drain(10_000)).toBe(true);
    const during = await get();
    expect(during.body).toMatchObject({ round: 1, root: first.body.root, cumulative: first.body.cumulative });
    expect((await runStatus(c.reader, c.chainRunId)).root).toBe(first.body.root);

    // The served proof pays now; after the window the route moves on to round 2.
    const asWorker = connectLedger(c.config.ledgerAddress, walletSigner(c.anvil.privateKeys[3] ?? '', c.provider));
    const paid = await claim(asWorker, { runId: c.chainRunId, account: worker, cumulativeAmount: BigInt(during.body.cumulative ?? '0'), proof: during.body.proof ?? [] });
    expect(paid.amount).toBe(BigInt(first.body.cumulative ?? '0'));
    await passWindow();
    const after = await get();
    expect(after.body.round).toBe(2);
    expect(BigInt(after.body.cumulative ?? '0')).toBeGreaterThan(BigInt(first.body.cumulative ?? '0'));
  });
});
