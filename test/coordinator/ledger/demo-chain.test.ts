// The demo's chain from start to finish: anvil, a funded run, rounds recorded from the outbox,
// every worker claiming with its own key, and the `chain` summary read back from Claimed events.
import { Wallet, parseEther } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { startAnvil, type AnvilChain } from '../../../contracts/node/anvil.js';
import { attachLedger, type AttachedLedger } from '../../../coordinator/ledger/attach.js';
import { finishDemoChain, startDemoChain, type DemoChain } from '../../../coordinator/ledger/demo-chain.js';
import { ensureBuilt } from '../../contracts/helpers.js';
import { FAST_SENDER } from './chain-fixture.js';
import { completeRound, tempStore, work, type TempStore } from './helpers.js';

let t: TempStore | undefined;
let attached: AttachedLedger | undefined;
let chain: DemoChain | undefined;
let ownAnvil: AnvilChain | undefined;
afterEach(async () => {
  await attached?.close();
  t?.cleanup();
  await chain?.stop();
  await ownAnvil?.stop();
  [t, attached, chain, ownAnvil] = [undefined, undefined, undefined, undefined];
});

/** Three workers over three rounds; the third joins in round 2 only. */
async function runThreeRounds(demo: DemoChain, keys: string[]): Promise<void> {
  t = tempStore('demo-run');
  attached = await attachLedger({ store: t.store, runId: 'demo-run', config: demo.config, privateKey: demo.coordinatorKey, sender: FAST_SENDER });
  const [a, b, c] = keys.map((k) => new Wallet(k).address) as [string, string, string];
  completeRound(t.store, 'demo-run', 1, [work(a, 600), work(b, 400)], attached.onRoundCommit);
  completeRound(t.store, 'demo-run', 2, [work(a, 600), work(b, 400), work(c, 1000)], attached.onRoundCommit);
  completeRound(t.store, 'demo-run', 3, [work(a, 700), work(b, 300)], attached.onRoundCommit);
}

describe('demo chain', () => {
  it('records every round and every worker claims: Σ claimed = allocated ≤ funded', async () => {
    ensureBuilt();
    const keys = [0, 1, 2].map(() => Wallet.createRandom().privateKey);
    chain = await startDemoChain({ rounds: 3, budgetWei: parseEther('0.3') });
    await runThreeRounds(chain, keys);

    const summary = await finishDemoChain({ chain, workerKeys: keys, ledger: attached });

    const addresses = keys.map((k) => new Wallet(k).address);
    expect(summary).toMatchObject({ chainId: 31337, ledger: chain.ledgerAddress, roundsRecorded: 3, funded: parseEther('0.3').toString() });
    expect(Object.keys(summary.claimed).sort()).toEqual([...addresses].sort());
    const claimed = Object.values(summary.claimed).reduce((s, v) => s + BigInt(v), 0n);
    expect(claimed).toBe(BigInt(summary.allocated));
    expect(BigInt(summary.allocated) <= BigInt(summary.funded)).toBe(true);
    // Each worker was paid exactly what the coordinator's table says it earned.
    const earned = (t?.store ?? never()).ledger.cumulativeRewards('demo-run');
    for (const address of addresses) expect(summary.claimed[address]).toBe((earned.get(address) ?? 0n).toString());
    expect(summary.claimed[addresses[2] ?? '']).toBe(parseEther('0.05').toString()); // half of round 2's 0.1 ETH
    expect(chain.anvil?.running).toBe(false);
    expect(JSON.parse(JSON.stringify({ chain: summary }))).toEqual({ chain: summary });
  });

  it('runs on a given network: one key deploys, funds, records and pays the workers\' gas', async () => {
    ensureBuilt();
    ownAnvil = await startAnvil();
    const keys = [0, 1, 2].map(() => Wallet.createRandom().privateKey);
    chain = await startDemoChain({ rounds: 3, budgetWei: 3_000n, network: { rpcUrl: ownAnvil.rpcUrl, privateKey: ownAnvil.privateKeys[5] ?? '' } });
    await runThreeRounds(chain, keys);

    const summary = await finishDemoChain({ chain, workerKeys: keys, ledger: attached });

    expect(summary).toMatchObject({ roundsRecorded: 3, funded: '3000', allocated: '3000' });
    expect(Object.values(summary.claimed).reduce((s, v) => s + BigInt(v), 0n)).toBe(3_000n);
    expect(ownAnvil.running).toBe(true); // not ours to stop
  });
});

function never(): never {
  throw new Error('no store');
}
