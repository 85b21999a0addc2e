// A whole run, as the coordinator and the workers will drive it: fund, record three rounds with
// cumulative roots, claim between rounds (each claim pays the difference), audit from events alone,
// end, withdraw the rest. Once in ETH and once in an ERC-20.
import { ZeroAddress, type Contract, type NonceManager } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, createRun, endRun, fundRun, recordRound, rewardBalance, runStatus, withdraw } from '../../contracts/ledger-client.js';
import { auditRun, claimRecords, proofFromChain, roundRecords } from '../../contracts/ledger-events.js';
import { RewardTree, accumulate, type RewardEntry } from '../../contracts/merkle.js';
import { ETH, deployTest, expectRevert, startTestChain, type TestChain } from './helpers.js';

let t: TestChain;
let token: Contract;
let w: string[];

beforeAll(async () => {
  t = await startTestChain();
  token = await deployTest('TestToken', t.researcher);
  w = await Promise.all(t.workers.map((s) => s.getAddress()));
});
afterAll(async () => {
  await t?.stop();
});

const addr = (i: number): string => w[i] ?? '';
const signer = (i: number): NonceManager => t.workers[i] as NonceManager;

/** Three rounds: worker 0 in all, worker 1 in rounds 0 and 2, worker 2 only in round 1. */
function rounds(unit: bigint): RewardEntry[][] {
  return [
    [{ account: addr(0), amount: 3n * unit }, { account: addr(1), amount: 2n * unit }],
    [{ account: addr(0), amount: 1n * unit }, { account: addr(2), amount: 4n * unit }],
    [{ account: addr(0), amount: 2n * unit }, { account: addr(1), amount: 1n * unit }],
  ];
}

async function runEndToEnd(tokenAddress: string, unit: bigint): Promise<void> {
  // Prepare: a run funded with 20 units.
  const coordinator = await t.coordinator.getAddress();
  const { runId } = await createRun(t.asResearcher, { coordinator, token: tokenAddress });
  const { credited } = await fundRun(t.asResearcher, { runId, amount: 20n * unit });
  expect(credited).toBe(20n * unit);
  const balance = (i: number): Promise<bigint> => rewardBalance(t.provider, tokenAddress, addr(i));
  const start = await Promise.all([0, 1, 2].map(balance));
  const gasPaid = [0n, 0n, 0n];

  // Execute: record each round; worker 0 claims after every round, the others only at the end.
  let cumulative = new Map<string, bigint>();
  let tree = RewardTree.build(cumulative);
  const paidToWorker0: bigint[] = [];
  for (const [round, entries] of rounds(unit).entries()) {
    cumulative = accumulate(cumulative, entries);
    tree = RewardTree.build(cumulative);
    await recordRound(t.asCoordinator, { runId, round, entries, cumulativeRoot: tree.root, modelHash: `0x${'ab'.repeat(32)}` });
    const res = await claim(t.as(signer(0)), { runId, ...tree.proof(addr(0)) });
    paidToWorker0.push(res.amount);
    gasPaid[0] = (gasPaid[0] ?? 0n) + (tokenAddress === ZeroAddress ? res.gasUsed * (await gasPrice(res.txHash)) : 0n);
  }
  for (const i of [1, 2]) {
    // These two take their proofs from the chain's events alone, not from the coordinator's tree.
    const proof = await proofFromChain(t.as(signer(i)), runId, addr(i));
    expect(proof).toMatchObject(tree.proof(addr(i)));
    const res = await claim(t.as(signer(i)), { runId, ...proof });
    gasPaid[i] = tokenAddress === ZeroAddress ? res.gasUsed * (await gasPrice(res.txHash)) : 0n;
  }

  // Assert: each claim paid the difference; totals match the cumulative amounts.
  expect(paidToWorker0).toEqual([3n * unit, 1n * unit, 2n * unit]);
  const end = await Promise.all([0, 1, 2].map(balance));
  const received = end.map((b, i) => b - (start[i] ?? 0n) + (gasPaid[i] ?? 0n));
  expect(received).toEqual([6n * unit, 3n * unit, 4n * unit]);
  await expectRevert(claim(t.as(signer(1)), { runId, ...tree.proof(addr(1)) }), 'NothingToClaim');

  // Anyone can rebuild every root from the events and get the same proofs.
  const audit = await auditRun(t.asResearcher, runId);
  expect(audit.ok).toBe(true);
  expect(audit.rounds.map((r) => r.round)).toEqual([0, 1, 2]);
  expect(audit.tree.root).toBe(tree.root);
  expect((await roundRecords(t.asResearcher, runId)).map((r) => r.entries)).toEqual(rounds(unit));
  const claims = await claimRecords(t.asResearcher, runId, { account: addr(0) });
  expect(claims.map((c) => c.cumulativeAmount)).toEqual([3n * unit, 4n * unit, 6n * unit]);

  // The researcher gets back exactly what was never allocated.
  await endRun(t.asCoordinator, { runId });
  expect((await withdraw(t.asResearcher, { runId })).amount).toBe(7n * unit);
  expect(await runStatus(t.asResearcher, runId)).toMatchObject({
    funded: 20n * unit, allocated: 13n * unit, claimed: 13n * unit, withdrawn: 7n * unit, unallocated: 0n, unclaimed: 0n,
    roundsRecorded: 3, nextRound: 3, root: tree.root, ended: true,
  });
  expect(await rewardBalance(t.provider, tokenAddress, t.asResearcher.address)).toBe(0n);
}

async function gasPrice(txHash: string): Promise<bigint> {
  const receipt = await t.provider.getTransactionReceipt(txHash);
  return receipt?.gasPrice ?? 0n;
}

describe('a run end to end', () => {
  it('pays in ETH', async () => {
    await runEndToEnd(ZeroAddress, ETH('0.1'));
  });

  it('pays in an ERC-20', async () => {
    await (await token.getFunction('mint')(await t.researcher.getAddress(), ETH('1000'))).wait();
    await runEndToEnd(await token.getAddress(), ETH('1'));
  });

  it('refuses ETH sent to a token run', async () => {
    const { runId } = await createRun(t.asResearcher, { coordinator: await t.coordinator.getAddress(), token: await token.getAddress() });
    await expectRevert(t.asResearcher.contract.getFunction('fund').estimateGas(runId, 1n, { value: 1n }), 'WrongValue');
  });
});
