// The coordinator on a run with a challenge window, against a real anvil: when a challenge freezes
// the run, the sender's rounds fail with E_LEDGER_RUN_FROZEN and wait in the outbox; once the
// researcher unfreezes it they go out. A coordinator started on a frozen run refuses to start.
import { afterEach, describe, expect, it } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';
import { challengeRoot, connectLedger, recordRound, runStatus, unfreezeRun, walletSigner } from '../../../contracts/ledger-client.js';
import { RewardTree } from '../../../contracts/merkle.js';
import { attachLedger, type AttachedLedger } from '../../../coordinator/ledger/attach.js';
import { rewardTreeOf } from '../../../coordinator/ledger/outbox.js';
import { FAST_SENDER, startLedgerChain, until, type LedgerChain } from './chain-fixture.js';
import { completeRound, tempStore, work, type TempStore } from './helpers.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
const WINDOW = 600;

let chain: LedgerChain | undefined;
let t: TempStore | undefined;
let attached: AttachedLedger | undefined;
afterEach(async () => {
  await attached?.close();
  t?.cleanup();
  await chain?.stop();
  [chain, t, attached] = [undefined, undefined, undefined];
});

describe('a frozen ledger run', () => {
  it('holds the coordinator\'s rounds until the researcher unfreezes it, and refuses a new coordinator meanwhile', async () => {
    chain = await startLedgerChain({ rounds: 3, challengeWindowSeconds: WINDOW });
    const c = chain;
    t = tempStore('run-1');
    const { store } = t;
    attached = await attachLedger({ store, runId: 'run-1', config: c.config, privateKey: c.coordinatorKey, sender: FAST_SENDER });
    completeRound(store, 'run-1', 1, [work(A, 10), work(B, 5)], attached.onRoundCommit);
    expect(await attached.drain(10_000)).toBe(true);
    await c.provider.send('evm_increaseTime', [WINDOW + 1]);
    await c.provider.send('evm_mine', []);
    const claimable = rewardTreeOf(store.ledger, 'run-1');
    expect((await runStatus(c.reader, c.chainRunId)).root).toBe(claimable.root);

    // The coordinator's key records a round 2 that moves part of A's total to B; a bystander proves it.
    const forged = RewardTree.build(new Map([[A, claimable.amountOf(A) - 1n], [B, claimable.amountOf(B) + 1n]]));
    const asCoordinator = connectLedger(c.config.ledgerAddress, walletSigner(c.coordinatorKey, c.provider));
    await recordRound(asCoordinator, { runId: c.chainRunId, round: 2, entries: [], cumulativeRoot: forged.root });
    const bystander = connectLedger(c.config.ledgerAddress, walletSigner(c.anvil.privateKeys[2] ?? '', c.provider));
    await challengeRoot(bystander, { runId: c.chainRunId, claimable: claimable.proof(A), pending: forged.proof(A) });

    // Round 3 waits, failing with the stable code; a coordinator starting now is refused.
    completeRound(store, 'run-1', 3, [work(A, 4)], attached.onRoundCommit);
    await until(() => (store.ledger.outboxRows('run-1').find((r) => r.round === 3)?.lastError ?? '').startsWith('E_LEDGER_RUN_FROZEN'));
    expect(attached.sender.pendingCount()).toBe(1);
    const other = tempStore('run-2');
    try {
      const refused = await attachLedger({ store: other.store, runId: 'run-2', config: c.config, privateKey: c.coordinatorKey }).then(
        () => undefined, (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(CohortError);
      expect((refused as CohortError).code).toBe('E_LEDGER_RUN_FROZEN');
    } finally {
      other.cleanup();
    }

    // The researcher keeps the coordinator and unfreezes: round 3 goes out, pending on the old root.
    await unfreezeRun(c.researcher, { runId: c.chainRunId, coordinator: c.coordinator });
    expect(await attached.drain(10_000)).toBe(true);
    const status = await runStatus(c.reader, c.chainRunId);
    expect(status).toMatchObject({ frozen: false, root: claimable.root, pendingRoot: rewardTreeOf(store.ledger, 'run-1').root });
  });
});
