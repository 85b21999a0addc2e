// The outbox sender against a real anvil: a coordinator crash between sending and marking, and a
// chain outage (anvil stopped, then restarted on the same state and port), lose no round and
// record none twice; a round the chain holds with another root stops the sender loudly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonRpcProvider } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { startAnvil } from '../../../contracts/node/anvil.js';
import { connectChain, connectLedger, createRun, fundRun, recordRound, runStatus, walletSigner, type Ledger } from '../../../contracts/ledger-client.js';
import { auditRun, roundRecords } from '../../../contracts/ledger-events.js';
import { attachLedger, type AttachedLedger } from '../../../coordinator/ledger/attach.js';
import { rewardPolicyOf } from '../../../coordinator/ledger/ledger-config.js';
import { bindRun, enqueueRound, type LedgerBinding } from '../../../coordinator/ledger/outbox.js';
import { deliver } from '../../../coordinator/ledger/sender.js';
import { FAST_SENDER, startLedgerChain, until, type LedgerChain } from './chain-fixture.js';
import { completeRound, tempStore, work, type TempStore } from './helpers.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';

let chain: LedgerChain | undefined;
let t: TempStore | undefined;
let attached: AttachedLedger | undefined;
let stateDir: string | undefined;
afterEach(async () => {
  await attached?.close();
  t?.cleanup();
  await chain?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  [chain, t, attached, stateDir] = [undefined, undefined, undefined, undefined];
});

/** Each recorded round, and how many times it was recorded. */
async function recordedRounds(c: LedgerChain): Promise<number[]> {
  return (await roundRecords(c.reader, c.chainRunId)).map((r) => r.round);
}

describe('ledger sender', () => {
  it('survives a crash between sending and marking: nothing lost, nothing sent twice', async () => {
    // Prepare: three rounds committed with their outbox rows by a coordinator without a sender.
    chain = await startLedgerChain({ rounds: 3 });
    t = tempStore('run-1');
    const binding: LedgerBinding = {
      chainId: chain.anvil.chainId, ledgerAddress: chain.config.ledgerAddress, chainRunId: chain.chainRunId,
      fromBlock: chain.config.fromBlock, policy: rewardPolicyOf(chain.config),
    };
    const first = t.store;
    bindRun(first.ledger, 'run-1', binding);
    for (const round of [1, 2, 3]) {
      completeRound(first, 'run-1', round, [work(A, 10 * round), work(B, 5)], (commit) => void enqueueRound(first.ledger, { ...commit, binding }));
    }
    // The first coordinator sends round 1 and marks it, sends round 2 and "crashes" before marking.
    const crashed = await crashedCoordinator(chain);
    const [row1, row2] = t.store.ledger.outboxRows('run-1');
    const sent = await deliver(crashed.ledger, row1 ?? never());
    t.store.ledger.markSent('run-1', 1, { txHash: sent.txHash, outcome: sent.status });
    const lost = await deliver(crashed.ledger, row2 ?? never());
    crashed.provider.destroy();
    const store = t.reopen();

    // Execute: a new coordinator on the same store.
    attached = await attachLedger({ store, runId: 'run-1', config: chain.config, privateKey: chain.coordinatorKey, sender: FAST_SENDER });
    expect(await attached.drain(20_000)).toBe(true);

    // Assert: every round once on chain; round 2 was recognised, not re-sent.
    const rows = store.ledger.outboxRows('run-1');
    const events = await roundRecords(chain.reader, chain.chainRunId);
    expect(events.map((e) => e.round)).toEqual([1, 2, 3]);
    expect(rows.map((r) => [r.status, r.outcome])).toEqual([['sent', 'recorded'], ['sent', 'already-recorded'], ['sent', 'recorded']]);
    expect(rows.map((r) => r.txHash)).toEqual(events.map((e) => e.txHash));
    expect(rows[1]?.txHash).toBe(lost.txHash);
    expect(await chain.provider.getTransactionCount(chain.coordinator)).toBe(3);
    const status = await runStatus(chain.reader, chain.chainRunId);
    expect(status.allocated).toBe(rows.reduce((s, r) => s + BigInt(r.payload.roundTotal), 0n));
    expect(status.root).toBe(attached.rewardTree().root);
    expect((await auditRun(chain.reader, chain.chainRunId)).ok).toBe(true);
    expect(attached.pendingCount()).toBe(0);
  });

  it('survives a chain outage (and a coordinator restart during it): rows wait with rising attempts, then go out once each', async () => {
    // Prepare: a chain that keeps its state across a restart; round 1 delivered.
    stateDir = mkdtempSync(join(tmpdir(), 'cohort-outage-'));
    chain = await startLedgerChain({ rounds: 3, anvil: { statePath: join(stateDir, 'state.json') } });
    t = tempStore('run-1');
    attached = await attachLedger({ store: t.store, runId: 'run-1', config: chain.config, privateKey: chain.coordinatorKey, sender: FAST_SENDER });
    completeRound(t.store, 'run-1', 1, [work(A, 4), work(B, 4)], attached.onRoundCommit);
    expect(await attached.drain(10_000)).toBe(true);

    // Execute: anvil stops; two more rounds complete meanwhile.
    const port = chain.anvil.port;
    await chain.anvil.stop();
    completeRound(t.store, 'run-1', 2, [work(A, 4)], attached.onRoundCommit);
    // The coordinator restarts too, while the chain is still down: it resumes from the store.
    await attached.close();
    const store = t.reopen();
    attached = await attachLedger({ store, runId: 'run-1', config: chain.config, privateKey: chain.coordinatorKey, sender: FAST_SENDER });
    completeRound(store, 'run-1', 3, [work(B, 4)], attached.onRoundCommit);
    await until(() => (store.ledger.outboxRows('run-1')[1]?.attempts ?? 0) >= 3);
    const during = store.ledger.outboxRows('run-1');
    expect(during.map((r) => r.status)).toEqual(['sent', 'pending', 'pending']);
    expect(during[1]?.lastError).toContain('E_CHAIN_UNAVAILABLE');
    expect(attached.pendingCount()).toBe(2);
    expect(await attached.drain(200)).toBe(false);
    const restarted = await startAnvil({ statePath: join(stateDir, 'state.json'), port });
    chain = { ...chain, anvil: restarted };

    // Assert: delivered after the restart, each round once.
    expect(await attached.drain(20_000)).toBe(true);
    expect(await recordedRounds(chain)).toEqual([1, 2, 3]);
    expect(await chain.provider.getTransactionCount(chain.coordinator)).toBe(3);
    expect((await runStatus(chain.reader, chain.chainRunId)).root).toBe(attached.rewardTree().root);
  });

  it('sends the rounds of an earlier run that ended before they went out, and drains on close', async () => {
    // Prepare: run-1's two rounds are in the outbox, but its coordinator stopped before sending.
    chain = await startLedgerChain({ rounds: 2 });
    t = tempStore('run-1');
    const binding: LedgerBinding = {
      chainId: chain.anvil.chainId, ledgerAddress: chain.config.ledgerAddress, chainRunId: chain.chainRunId,
      fromBlock: chain.config.fromBlock, policy: rewardPolicyOf(chain.config),
    };
    bindRun(t.store.ledger, 'run-1', binding);
    const { ledger: tables } = t.store;
    for (const round of [1, 2]) completeRound(t.store, 'run-1', round, [work(A, 3)], (commit) => void enqueueRound(tables, { ...commit, binding }));
    t.store.endRun('run-1', 'completed', 'done');
    // A second run, on a second ledger run of the same coordinator.
    const { runId: second } = await createRun(chain.researcher, { coordinator: chain.coordinator });
    await fundRun(chain.researcher, { runId: second, amount: 1_000n });
    t.store.createRun('run-2', {});

    // Execute: the next coordinator serves run-2; its one round completes and it shuts down at once.
    attached = await attachLedger({ store: t.store, runId: 'run-2', config: { ...chain.config, chainRunId: second, budgetWei: 1_000n, rounds: 1 }, privateKey: chain.coordinatorKey, sender: FAST_SENDER });
    completeRound(t.store, 'run-2', 1, [work(B, 3)], attached.onRoundCommit);
    await attached.close();

    // Assert: everything reached the chain, run-1's rounds first.
    expect((await roundRecords(chain.reader, chain.chainRunId)).map((r) => r.round)).toEqual([1, 2]);
    expect((await roundRecords(chain.reader, second)).map((r) => r.entries)).toEqual([[{ account: B, amount: 1_000n }]]);
    expect([...t.store.ledger.outboxRows('run-1'), ...t.store.ledger.outboxRows('run-2')].map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
  });

  it('stops at a round the chain holds with another root (E_LEDGER_ROUND_CONFLICT)', async () => {
    chain = await startLedgerChain({ rounds: 3 });
    t = tempStore('run-1');
    const logs: string[] = [];
    attached = await attachLedger({
      store: t.store, runId: 'run-1', config: chain.config, privateKey: chain.coordinatorKey, sender: FAST_SENDER,
      log: (level, message) => logs.push(`${level} ${message}`),
    });
    // Someone else holding the coordinator key records round 1 with another root.
    await recordRound(attached.ledger, { runId: chain.chainRunId, round: 1, entries: [{ account: A, amount: 1n }], cumulativeRoot: `0x${'77'.repeat(32)}` });

    completeRound(t.store, 'run-1', 1, [work(A, 4)], attached.onRoundCommit);
    completeRound(t.store, 'run-1', 2, [work(A, 4)], attached.onRoundCommit);

    await expect(attached.drain(10_000)).rejects.toMatchObject({ code: 'E_LEDGER_ROUND_CONFLICT' });
    const rows = t.store.ledger.outboxRows('run-1');
    expect(rows.map((r) => r.status)).toEqual(['conflict', 'pending']);
    expect(attached.pendingCount()).toBe(2);
    expect(logs.some((l) => l.startsWith('error') && l.includes('CONFLICT'))).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.store.ledger.outboxRows('run-1')[0]?.attempts).toBe(1); // never retried
    expect(await recordedRounds(chain)).toEqual([1]);
  });

  it('refuses a key that is not the run\'s coordinator', async () => {
    chain = await startLedgerChain();
    t = tempStore('run-1');
    await expect(attachLedger({ store: t.store, runId: 'run-1', config: chain.config, privateKey: chain.anvil.privateKeys[2] })).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
      message: expect.stringContaining('names coordinator'),
    });
  });
});

/** The crashed coordinator's ledger handle: its own provider and signer on the coordinator key. */
async function crashedCoordinator(c: LedgerChain): Promise<{ ledger: Ledger; provider: JsonRpcProvider }> {
  const provider = await connectChain(c.anvil.rpcUrl);
  return { provider, ledger: connectLedger(c.config.ledgerAddress, walletSigner(c.coordinatorKey, provider), { fromBlock: c.config.fromBlock }) };
}

function never(): never {
  throw new Error('missing outbox row');
}
