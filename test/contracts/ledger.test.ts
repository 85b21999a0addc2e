// ContributionLedger's rules, each checked against a real anvil: who may do what, what can happen
// only once, and that no path pays out more than was funded, allocated or proven.
import { Contract, ZeroAddress, ZeroHash, type NonceManager } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claim, createRun, endRun, fundRun, paidOf, recordRound, revertName, rewardBalance, runStatus, withdraw,
} from '../../contracts/ledger-client.js';
import { LEDGER_ABI } from '../../contracts/ledger-abi.js';
import { RewardTree, accumulate, packRound, type RewardEntry } from '../../contracts/merkle.js';
import { ETH, deployTest, expectRevert, startTestChain, type TestChain } from './helpers.js';

let t: TestChain;
let workerAddrs: string[];

beforeAll(async () => {
  t = await startTestChain({ tracing: true });
  workerAddrs = await Promise.all(t.workers.map((w) => w.getAddress()));
});
afterAll(async () => {
  await t?.stop();
});

const worker = (i: number): string => workerAddrs[i] ?? '';

/** An ETH run funded with `funding`, coordinated by t.coordinator. */
async function ethRun(funding = ETH('10')): Promise<bigint> {
  const { runId } = await createRun(t.asResearcher, { coordinator: await t.coordinator.getAddress() });
  await fundRun(t.asResearcher, { runId, amount: funding });
  return runId;
}

/** Records one round whose cumulative tree is `cumulative` plus `entries`; returns the new totals. */
async function record(runId: bigint, round: number, entries: RewardEntry[], before = new Map<string, bigint>()) {
  const cumulative = accumulate(before, entries);
  const tree = RewardTree.build(cumulative);
  const outcome = await recordRound(t.asCoordinator, { runId, round, entries, cumulativeRoot: tree.root });
  return { cumulative, tree, outcome };
}

describe('access control', () => {
  it('lets only the run coordinator record, even the researcher is refused', async () => {
    const runId = await ethRun();
    const entries = [{ account: worker(0), amount: ETH('1') }];
    const root = RewardTree.build(accumulate(new Map(), entries)).root;
    await expectRevert(recordRound(t.asResearcher, { runId, round: 0, entries, cumulativeRoot: root }), 'NotCoordinator');
    await expectRevert(recordRound(t.as(t.workers[0] as NonceManager), { runId, round: 0, entries, cumulativeRoot: root }), 'NotCoordinator');
    expect((await runStatus(t.asResearcher, runId)).roundsRecorded).toBe(0);
  });

  it('lets only the researcher withdraw, and the researcher or coordinator end', async () => {
    const runId = await ethRun();
    await expectRevert(endRun(t.as(t.workers[0] as NonceManager), { runId }), 'NotResearcherOrCoordinator');
    await endRun(t.asCoordinator, { runId });
    await expectRevert(withdraw(t.asCoordinator, { runId }), 'NotResearcher');
    await expectRevert(withdraw(t.as(t.workers[0] as NonceManager), { runId }), 'NotResearcher');
    expect((await withdraw(t.asResearcher, { runId })).amount).toBe(ETH('10'));
  });

  it('reports an unknown run and refuses a zero coordinator', async () => {
    await expectRevert(runStatus(t.asResearcher, 999n), 'RunNotFound');
    await expectRevert(createRun(t.asResearcher, { coordinator: ZeroAddress }), 'ZeroAddress');
  });
});

describe('recording', () => {
  it('refuses a second record of the same round, and an older round after a newer one', async () => {
    const runId = await ethRun();
    const first = await record(runId, 1, [{ account: worker(0), amount: ETH('1') }]);
    // A different root for round 1: the client reports a conflict; the contract's own error is underneath.
    const other = RewardTree.build(new Map([[worker(1), 1n]])).root;
    const conflict = await recordRound(t.asCoordinator, { runId, round: 1, entries: [], cumulativeRoot: other }).catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'E_LEDGER_ROUND_CONFLICT' });
    expect(revertName((conflict as { cause?: unknown }).cause)).toBe('RoundAlreadyRecorded');
    await record(runId, 3, [], first.cumulative); // round 2 failed off-chain: gaps are allowed
    await expectRevert(
      t.asCoordinator.contract.getFunction('recordRound').estimateGas(runId, 2, ZeroHash, 0n, '0x', ZeroHash, ZeroHash, '0x'),
      'RoundAlreadyRecorded',
    );
    const status = await runStatus(t.asResearcher, runId);
    expect(status).toMatchObject({ roundsRecorded: 2, nextRound: 4, root: first.tree.root, allocated: ETH('1') });
  });

  it('treats a retry of the same round with the same root as already recorded (idempotent outbox)', async () => {
    const runId = await ethRun();
    const entries = [{ account: worker(0), amount: ETH('2') }];
    const first = await record(runId, 0, entries);
    const again = await recordRound(t.asCoordinator, { runId, round: 0, entries, cumulativeRoot: first.tree.root });
    expect(again).toMatchObject({ status: 'already-recorded', txHash: first.outcome.txHash });
    expect((await runStatus(t.asResearcher, runId)).allocated).toBe(ETH('2'));
  });

  it('refuses to allocate more than was funded', async () => {
    const runId = await ethRun(ETH('1'));
    await record(runId, 0, [{ account: worker(0), amount: ETH('0.6') }]);
    await expectRevert(record(runId, 1, [{ account: worker(1), amount: ETH('0.5') }]), 'AllocationExceedsFunds');
    expect((await runStatus(t.asResearcher, runId)).allocated).toBe(ETH('0.6'));
  });

  it('refuses a packed list that is not whole 32-byte entries, and rounds after the end', async () => {
    const runId = await ethRun();
    const fn = t.asCoordinator.contract.getFunction('recordRound');
    await expectRevert(fn.estimateGas(runId, 0, ZeroHash, 0n, '0x1234', ZeroHash, ZeroHash, '0x'), 'BadPacking');
    await endRun(t.asResearcher, { runId });
    await expectRevert(record(runId, 0, []), 'RunAlreadyEnded');
    await expectRevert(fundRun(t.asResearcher, { runId, amount: 1n }), 'RunAlreadyEnded');
  });

  it('writes the same three storage slots whatever the number of workers', async () => {
    const runId = await ethRun(ETH('1000'));
    const few = await record(runId, 0, [{ account: worker(0), amount: 1n }]);
    const many = workerList(200, 1n);
    const lots = await record(runId, 1, many, few.cumulative);
    const [a, b] = await Promise.all([sstores(few.outcome.txHash), sstores(lots.outcome.txHash)]);
    expect(a).toBe(b);
    expect(a).toBe(3); // counters + coordinator, root, allocation
  });
});

describe('claiming', () => {
  it('pays once; a second claim of the same total pays nothing and reverts', async () => {
    const runId = await ethRun();
    const { tree } = await record(runId, 0, [{ account: worker(0), amount: ETH('1') }, { account: worker(1), amount: ETH('2') }]);
    const me = t.as(t.workers[0] as NonceManager);
    expect((await claim(me, { runId, ...tree.proof(worker(0)) })).amount).toBe(ETH('1'));
    await expectRevert(claim(me, { runId, ...tree.proof(worker(0)) }), 'NothingToClaim');
    expect(await paidOf(me, runId, worker(0))).toBe(ETH('1'));
  });

  it('refuses a wrong proof, a wrong amount and another worker\'s proof', async () => {
    const runId = await ethRun();
    const { tree } = await record(runId, 0, [{ account: worker(0), amount: ETH('1') }, { account: worker(1), amount: ETH('2') }]);
    const me = t.as(t.workers[0] as NonceManager);
    const mine = tree.proof(worker(0));
    await expectRevert(claim(me, { runId, ...mine, cumulativeAmount: ETH('2') }), 'InvalidProof');
    await expectRevert(claim(me, { runId, ...mine, proof: [ZeroHash] }), 'InvalidProof');
    await expectRevert(claim(me, { runId, ...tree.proof(worker(1)), account: worker(0) }), 'InvalidProof');
  });

  it('pays only the named account when someone else submits the claim', async () => {
    const runId = await ethRun();
    const { tree } = await record(runId, 0, [{ account: worker(0), amount: ETH('1') }]);
    const relayer = t.workers[5] as NonceManager;
    const [before0, beforeRelayer] = await Promise.all([t.provider.getBalance(worker(0)), t.provider.getBalance(worker(5))]);
    const res = await claim(t.as(relayer), { runId, ...tree.proof(worker(0)) });
    const [after0, afterRelayer] = await Promise.all([t.provider.getBalance(worker(0)), t.provider.getBalance(worker(5))]);
    expect(after0 - before0).toBe(ETH('1'));
    expect(afterRelayer).toBeLessThan(beforeRelayer); // paid the gas, got nothing
    expect(res.amount).toBe(ETH('1'));
  });

  it('caps claims at the allocation even if a faulty coordinator records an inflated root', async () => {
    const runId = await ethRun(ETH('5'));
    // roundTotal says 1 ETH but the root grants 4 ETH.
    const inflated = RewardTree.build(new Map([[worker(0), ETH('4')]]));
    await t.asCoordinator.contract.getFunction('recordRound')(runId, 0, ZeroHash, ETH('1'), packRound([]), inflated.root, ZeroHash, '0x').then((tx: { wait(): Promise<unknown> }) => tx.wait());
    await expectRevert(claim(t.as(t.workers[0] as NonceManager), { runId, ...inflated.proof(worker(0)) }), 'ClaimExceedsAllocation');
    await endRun(t.asResearcher, { runId });
    expect((await withdraw(t.asResearcher, { runId })).amount).toBe(ETH('4')); // the unallocated 4 ETH stay the researcher's
  });

  it('cannot be drained by a receiver that re-enters claim', async () => {
    const attacker = await deployTest('ReentrantReceiver', t.workers[6] as NonceManager, [t.asResearcher.address]);
    const attackerAddr = await attacker.getAddress();
    const runId = await ethRun(ETH('10'));
    const { tree } = await record(runId, 0, [{ account: attackerAddr, amount: ETH('1') }, { account: worker(0), amount: ETH('3') }]);
    const p = tree.proof(attackerAddr);
    await (await attacker.getFunction('arm')(runId, p.cumulativeAmount, p.proof, false)).wait();
    const ledgerBefore = await t.provider.getBalance(t.asResearcher.address);

    await (await attacker.getFunction('claim')()).wait();

    expect(await t.provider.getBalance(attackerAddr)).toBe(ETH('1'));
    expect(ledgerBefore - (await t.provider.getBalance(t.asResearcher.address))).toBe(ETH('1'));
    expect(await attacker.getFunction('reentryAttempts')()).toBe(1n);
    expect(await attacker.getFunction('reentrySuccesses')()).toBe(0n);
    expect(decode(await attacker.getFunction('lastRevertData')())).toBe('ReentrancyGuardReentrantCall');
  });
});

describe('withdrawal', () => {
  it('is refused before the end, then pays exactly the unallocated funds once', async () => {
    const runId = await ethRun(ETH('10'));
    await record(runId, 0, [{ account: worker(0), amount: ETH('3') }]);
    await expectRevert(withdraw(t.asResearcher, { runId }), 'RunNotEnded');
    await endRun(t.asResearcher, { runId });
    await expectRevert(endRun(t.asResearcher, { runId }), 'RunAlreadyEnded');
    expect((await withdraw(t.asResearcher, { runId })).amount).toBe(ETH('7'));
    await expectRevert(withdraw(t.asResearcher, { runId }), 'NothingToWithdraw');
    expect(await runStatus(t.asResearcher, runId)).toMatchObject({ funded: ETH('10'), allocated: ETH('3'), withdrawn: ETH('7'), unallocated: 0n, unclaimed: ETH('3') });
  });

  it('cannot be drained by a researcher contract that re-enters withdraw', async () => {
    const attacker = await deployTest('ReentrantReceiver', t.workers[7] as NonceManager, [t.asResearcher.address]);
    await (await attacker.getFunction('createAndFund')(await t.coordinator.getAddress(), { value: ETH('2') })).wait();
    const runId = (await t.asResearcher.contract.getFunction('runCount')()) as bigint;
    await record(runId, 0, [{ account: worker(0), amount: ETH('0.5') }]);
    await (await attacker.getFunction('endRun')()).wait();
    await (await attacker.getFunction('arm')(runId, 0n, [], true)).wait();

    await (await attacker.getFunction('withdraw')()).wait();

    expect(await rewardBalance(t.provider, ZeroAddress, await attacker.getAddress())).toBe(ETH('1.5'));
    expect(await attacker.getFunction('reentrySuccesses')()).toBe(0n);
    expect((await runStatus(t.asResearcher, runId)).withdrawn).toBe(ETH('1.5'));
  });

  it('checks the ETH value sent with fund', async () => {
    const { runId } = await createRun(t.asResearcher, { coordinator: await t.coordinator.getAddress() });
    const fund = t.asResearcher.contract.getFunction('fund');
    await expectRevert(fund.estimateGas(runId, ETH('1'), { value: ETH('0.5') }), 'WrongValue');
    await expectRevert(fundRun(t.asResearcher, { runId, amount: 0n }), 'ZeroAmount');
  });
});

function workerList(n: number, amount: bigint): RewardEntry[] {
  return Array.from({ length: n }, (_, i) => ({ account: `0x${(i + 0x1000).toString(16).padStart(40, '0')}`, amount }));
}

/** Distinct storage slots a transaction wrote, from anvil's opcode trace (the key is on top of the stack). */
async function sstores(txHash: string): Promise<number> {
  const trace = (await t.provider.send('debug_traceTransaction', [txHash, { disableMemory: true, disableStorage: true }])) as {
    structLogs: { op: string; stack?: string[] }[];
  };
  return new Set(trace.structLogs.filter((l) => l.op === 'SSTORE').map((l) => l.stack?.at(-1))).size;
}

const iface = new Contract(ZeroAddress, LEDGER_ABI).interface;

/** The custom error name in raw revert data, decoded with ethers' Interface. */
function decode(data: string): string | undefined {
  return iface.parseError(data)?.name;
}
