// The challenge window (issue 11, point 4), against a real anvil: a new root is claimable only once
// its window has passed; meanwhile anyone can prove that it lowers an address's cumulative reward,
// which rejects it, keeps the claimable root and freezes the run until its researcher unfreezes it.
// Time moves with anvil's evm_increaseTime, never with a wait.
import { ZeroHash, type NonceManager } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CohortError } from '../../core/protocol/errors.js';
import {
  challengeRoot, claim, createRun, fundRun, recordRound, runStatus, unfreezeRun, type Ledger,
} from '../../contracts/ledger-client.js';
import { proofFromChain } from '../../contracts/ledger-events.js';
import { queryEvents } from '../../contracts/ledger-tx.js';
import { RewardTree, type RewardEntry } from '../../contracts/merkle.js';
import { ETH, expectRevert, startTestChain, type TestChain } from './helpers.js';

const WINDOW = 3_600;

let t: TestChain;
let addrs: string[];

beforeAll(async () => {
  t = await startTestChain();
  addrs = await Promise.all(t.workers.map((w) => w.getAddress()));
});
afterAll(async () => {
  await t?.stop();
});

const A = (): string => addrs[0] ?? '';
const B = (): string => addrs[1] ?? '';
const asWorker = (i: number): Ledger => t.as(t.workers[i] as NonceManager);

async function windowRun(window = WINDOW): Promise<bigint> {
  const { runId } = await createRun(t.asResearcher, { coordinator: await t.coordinator.getAddress(), challengeWindowSeconds: window });
  await fundRun(t.asResearcher, { runId, amount: ETH('10') });
  return runId;
}

/** Records `round` with this round's `entries` but whatever cumulative totals `totals` says (honest or not). */
async function recordTotals(runId: bigint, round: number, entries: RewardEntry[], totals: [string, bigint][], as = t.asCoordinator): Promise<RewardTree> {
  const tree = RewardTree.build(new Map(totals));
  await recordRound(as, { runId, round, entries, cumulativeRoot: tree.root });
  return tree;
}

async function passTime(seconds: number): Promise<void> {
  await t.provider.send('evm_increaseTime', [seconds]);
  await t.provider.send('evm_mine', []);
}

async function rejection(promise: Promise<unknown>): Promise<CohortError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(CohortError);
  return err as CohortError;
}

/** Round 0 pays A 2 ETH and B 1 ETH, and becomes claimable. */
async function honestFirstRound(runId: bigint): Promise<RewardTree> {
  const entries = [{ account: A(), amount: ETH('2') }, { account: B(), amount: ETH('1') }];
  const tree = await recordTotals(runId, 0, entries, [[A(), ETH('2')], [B(), ETH('1')]]);
  await passTime(WINDOW + 1);
  return tree;
}

describe('honest path', () => {
  it('makes a root claimable only after the window; claims meanwhile use the previous root', async () => {
    const runId = await windowRun();
    const entries0 = [{ account: A(), amount: ETH('1') }];
    const tree0 = await recordTotals(runId, 0, entries0, [[A(), ETH('1')]]);
    let status = await runStatus(t.asResearcher, runId);
    expect(status).toMatchObject({ root: ZeroHash, pendingRoot: tree0.root, challengeWindow: WINDOW, frozen: false });
    await expectRevert(claim(asWorker(0), { runId, ...tree0.proof(A()) }), 'InvalidProof');

    await passTime(WINDOW + 1);
    status = await runStatus(t.asResearcher, runId);
    expect(status).toMatchObject({ root: tree0.root, pendingRoot: ZeroHash, claimableAt: 0 });
    expect((await claim(asWorker(0), { runId, ...tree0.proof(A()) })).amount).toBe(ETH('1'));

    // Round 1 is pending: B, new in it, cannot claim yet, and the proof the chain serves is round 0's.
    const tree1 = await recordTotals(runId, 1, [{ account: A(), amount: ETH('1') }, { account: B(), amount: ETH('3') }], [[A(), ETH('2')], [B(), ETH('3')]]);
    await expectRevert(claim(asWorker(1), { runId, ...tree1.proof(B()) }), 'InvalidProof');
    expect((await proofFromChain(t.asResearcher, runId, A())).cumulativeAmount).toBe(ETH('1'));
    // Recording again inside the window replaces the pending root and restarts its window.
    await passTime(WINDOW / 2);
    const tree2 = await recordTotals(runId, 2, [{ account: B(), amount: ETH('1') }], [[A(), ETH('2')], [B(), ETH('4')]]);
    await passTime(WINDOW / 2 + 10);
    status = await runStatus(t.asResearcher, runId);
    expect(status.root).toBe(tree0.root);
    expect(status.pendingRoot).toBe(tree2.root);

    await passTime(WINDOW / 2);
    expect((await runStatus(t.asResearcher, runId)).root).toBe(tree2.root);
    expect((await claim(asWorker(1), { runId, ...tree2.proof(B()) })).amount).toBe(ETH('4'));
    expect((await claim(asWorker(0), { runId, ...(await proofFromChain(t.asResearcher, runId, A())) })).amount).toBe(ETH('1'));
  });

  it('with a window of 0 (the demo chain) makes every root claimable at once', async () => {
    const runId = await windowRun(0);
    const tree = await recordTotals(runId, 0, [{ account: A(), amount: ETH('1') }], [[A(), ETH('1')]]);
    expect(await runStatus(t.asResearcher, runId)).toMatchObject({ root: tree.root, pendingRoot: ZeroHash, challengeWindow: 0 });
    expect((await claim(asWorker(0), { runId, ...tree.proof(A()) })).amount).toBe(ETH('1'));
  });
});

describe('a valid fraud proof', () => {
  it('stops the issue\'s attack: a root moving A\'s reward to B is rejected and the run frozen until the researcher acts', async () => {
    const runId = await windowRun();
    const tree0 = await honestFirstRound(runId);
    // The attack: round 1 pays nobody, yet its root lowers A from 2 to 1 ETH and raises B from 1 to 2.
    const forged = await recordTotals(runId, 1, [], [[A(), ETH('1')], [B(), ETH('2')]]);

    const challenger = asWorker(2); // anyone: a bystander with no stake in the run
    const res = await challengeRoot(challenger, { runId, claimable: tree0.proof(A()), pending: forged.proof(A()) });
    expect(res.rejectedRoot).toBe(forged.root);
    const [event] = await queryEvents(t.asResearcher, 'RootRejected', [runId]);
    expect([...(event?.args ?? [])].map(String)).toEqual(
      [runId, addrs[2], forged.root, tree0.root, A(), ETH('2'), ETH('1')].map(String),
    );
    expect(await runStatus(t.asResearcher, runId)).toMatchObject({ root: tree0.root, pendingRoot: ZeroHash, frozen: true });

    // The forged root never becomes claimable; the old one stays so.
    await passTime(WINDOW + 1);
    await expectRevert(claim(asWorker(1), { runId, ...forged.proof(B()) }), 'InvalidProof');
    expect((await claim(asWorker(0), { runId, ...tree0.proof(A()) })).amount).toBe(ETH('2'));

    // Recording is refused with the named error, mapped to a stable code.
    const frozen = await rejection(recordTotals(runId, 2, [], [[A(), ETH('2')], [B(), ETH('1')]]));
    expect(frozen.code).toBe('E_LEDGER_RUN_FROZEN');
    expect((frozen.details as { error?: string }).error).toBe('RunFrozen');

    // Only the researcher unfreezes; here it replaces the coordinator that forged the root.
    const replacement = t.workers[5] as NonceManager;
    await expectRevert(unfreezeRun(t.asCoordinator, { runId, coordinator: await replacement.getAddress() }), 'NotResearcher');
    await unfreezeRun(t.asResearcher, { runId, coordinator: await replacement.getAddress() });
    await expectRevert(unfreezeRun(t.asResearcher, { runId, coordinator: await replacement.getAddress() }), 'RunNotFrozen');
    await expectRevert(recordTotals(runId, 2, [], [[A(), ETH('2')], [B(), ETH('1')]]), 'NotCoordinator');
    const next = await recordTotals(runId, 2, [{ account: B(), amount: ETH('1') }], [[A(), ETH('2')], [B(), ETH('2')]], t.as(replacement));
    expect(await runStatus(t.asResearcher, runId)).toMatchObject({ frozen: false, root: tree0.root, pendingRoot: next.root });
    await passTime(WINDOW + 1);
    expect((await claim(asWorker(1), { runId, ...next.proof(B()) })).amount).toBe(ETH('2'));
  });
});

describe('an invalid fraud proof', () => {
  it('reverts with a named error and changes nothing', async () => {
    const runId = await windowRun();
    const tree0 = await honestFirstRound(runId);
    const honest = await recordTotals(runId, 1, [{ account: A(), amount: ETH('1') }], [[A(), ETH('3')], [B(), ETH('1')]]);
    const before = await runStatus(t.asResearcher, runId);
    const challenger = asWorker(2);
    const refused = async (claimable: ReturnType<RewardTree['proof']>, pending: ReturnType<RewardTree['proof']>, name: string): Promise<void> => {
      const err = await rejection(challengeRoot(challenger, { runId, claimable, pending }));
      expect(err.code).toBe('E_LEDGER_CHALLENGE_INVALID');
      expect((err.details as { error?: string }).error).toBe(name);
    };

    // A grew: not a fraud, whichever way round it is put.
    await refused(tree0.proof(A()), honest.proof(A()), 'ChallengeNotLower');
    await refused(tree0.proof(B()), honest.proof(B()), 'ChallengeNotLower');
    // A smaller amount that the pending root does not hold, or a claimable leaf that is not there.
    await refused(tree0.proof(A()), { ...honest.proof(A()), cumulativeAmount: ETH('1') }, 'ChallengeProofInvalid');
    await refused({ ...tree0.proof(A()), cumulativeAmount: ETH('5') }, honest.proof(A()), 'ChallengeProofInvalid');
    // The roots swapped: the pending root's leaf (3) offered as the claimable one, round 0's (2) as the pending one.
    await refused(honest.proof(A()), tree0.proof(A()), 'ChallengeProofInvalid');
    expect(await runStatus(t.asResearcher, runId)).toEqual(before);

    // After the window the root is claimable and no longer open to challenge.
    await passTime(WINDOW + 1);
    await refused(tree0.proof(A()), { ...honest.proof(A()), cumulativeAmount: ETH('1') }, 'ChallengeWindowClosed');
    expect(await runStatus(t.asResearcher, runId)).toMatchObject({ root: honest.root, frozen: false });
  });

  it('is refused once the window has closed, even for a root that did lower a reward', async () => {
    const runId = await windowRun();
    const tree0 = await honestFirstRound(runId);
    const forged = await recordTotals(runId, 1, [], [[A(), ETH('1')], [B(), ETH('2')]]);
    await passTime(WINDOW + 1);
    const err = await rejection(challengeRoot(asWorker(2), { runId, claimable: tree0.proof(A()), pending: forged.proof(A()) }));
    expect((err.details as { error?: string }).error).toBe('ChallengeWindowClosed');
    // Nobody watched in time: the forged root is claimable, which is what the window is for.
    expect((await runStatus(t.asResearcher, runId)).root).toBe(forged.root);
  });

  it('is refused on a run with no window', async () => {
    const runId = await windowRun(0);
    const tree = await recordTotals(runId, 0, [{ account: A(), amount: ETH('1') }], [[A(), ETH('1')]]);
    const err = await rejection(challengeRoot(asWorker(2), { runId, claimable: tree.proof(A()), pending: { ...tree.proof(A()), cumulativeAmount: 0n } }));
    expect((err.details as { error?: string }).error).toBe('NoPendingRoot');
  });
});
