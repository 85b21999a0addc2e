// The outbox is written in the transaction that completes the round (real SQLite, a RunStore and
// the engine's commit path): both land or neither does, and the cumulative table makes each
// round's Merkle root deterministic across restarts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RewardTree, accumulate } from '../../../contracts/merkle.js';
import { bindRun, enqueueRound, storedBinding, type LedgerBinding } from '../../../coordinator/ledger/outbox.js';
import type { RoundCommit } from '../../../coordinator/engine/run-engine.js';
import { completeRound, tempStore, work, type TempStore } from './helpers.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
const binding: LedgerBinding = {
  chainId: 31337,
  ledgerAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  chainRunId: 1n,
  fromBlock: 0,
  policy: { budgetWei: 1_000n, rounds: 3 },
};

let t: TempStore;
beforeEach(() => {
  t = tempStore('run-1');
});
afterEach(() => t.cleanup());

const enqueue = (commit: RoundCommit): void => void enqueueRound(t.store.ledger, { ...commit, binding });

describe('ledger outbox', () => {
  it('writes the round\'s row, split and cumulative totals with the round', () => {
    // Execute: two rounds, declared work 3:1 then 1:1 (two local epochs).
    completeRound(t.store, 'run-1', 1, [work(A, 300), work(B, 100)], enqueue);
    completeRound(t.store, 'run-1', 2, [work(A, 50, 2), work(B, 50, 2)], enqueue);

    // Assert: 333 per round for rounds 1 and 2 (the last round would get 334).
    const rows = t.store.ledger.outboxRows('run-1');
    expect(rows.map((r) => [r.round, r.status, r.attempts, r.txHash])).toEqual([[1, 'pending', 0, null], [2, 'pending', 0, null]]);
    expect(rows[0]?.payload).toMatchObject({ roundReward: '333', roundTotal: '333', entries: [[A, '250'], [B, '83']], chainRunId: '1' });
    expect(rows[1]?.payload.entries).toEqual([[A, '167'], [B, '166']]);
    expect(t.store.ledger.cumulativeRewards('run-1')).toEqual(new Map([[A, 417n], [B, 249n]]));
    const expectedRoot = RewardTree.build(new Map([[A, 417n], [B, 249n]])).root;
    expect(rows[1]?.payload.cumulativeRoot).toBe(expectedRoot);
    expect(rows[0]?.payload.modelHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(t.store.ledger.unsentCount('run-1')).toBe(2);
  });

  it('rolls back with the round: a failure after the outbox write leaves neither', () => {
    completeRound(t.store, 'run-1', 1, [work(A, 10)], enqueue);

    const failing = (): void =>
      completeRound(t.store, 'run-1', 2, [work(A, 10), work(B, 10)], (commit) => {
        enqueue(commit);
        throw new Error('disk full');
      });

    expect(failing).toThrow(expect.objectContaining({ code: 'E_STORE' }));
    expect(t.store.lastCompletedRound('run-1')).toBe(1);
    expect(t.store.ledger.outboxRows('run-1').map((r) => r.round)).toEqual([1]);
    expect(t.store.ledger.cumulativeRewards('run-1')).toEqual(new Map([[A, 333n]]));
  });

  it('and the round fails if its outbox row cannot be written (out of order)', () => {
    completeRound(t.store, 'run-1', 2, [work(A, 10)], enqueue);
    expect(() => completeRound(t.store, 'run-1', 1, [work(A, 10)], enqueue)).toThrow(expect.objectContaining({ code: 'E_STORE' }));
    expect(t.store.rounds('run-1').map((r) => r.round)).toEqual([2]);
  });

  it('gives the same roots after a restart as an uninterrupted run', () => {
    completeRound(t.store, 'run-1', 1, [work(A, 7), work(B, 5)], enqueue);
    const store = t.reopen();
    completeRound(store, 'run-1', 2, [work(B, 9)], enqueue);
    completeRound(store, 'run-1', 3, [work(A, 1), work(B, 1)], enqueue);

    let cumulative = new Map<string, bigint>();
    const roots = [
      [{ account: A, amount: 194n }, { account: B, amount: 139n }],
      [{ account: B, amount: 333n }],
      [{ account: A, amount: 167n }, { account: B, amount: 167n }],
    ].map((entries) => RewardTree.build((cumulative = accumulate(cumulative, entries))).root);
    const rows = store.ledger.outboxRows('run-1');
    expect(rows.map((r) => r.payload.cumulativeRoot)).toEqual(roots);
    expect(rows.reduce((s, r) => s + BigInt(r.payload.roundTotal), 0n)).toBe(1_000n);
  });

  it('keeps the settings a run started with', () => {
    bindRun(t.store.ledger, 'run-1', binding);
    const { binding: kept, differences } = bindRun(t.store.ledger, 'run-1', { ...binding, policy: { budgetWei: 5n, rounds: 3, perWorkerContributionCap: 9 } });
    expect(kept.policy.budgetWei).toBe(1_000n);
    expect(differences).toEqual(['budgetWei', 'perWorkerContributionCap']);
    expect(storedBinding(t.reopen().ledger, 'run-1')).toEqual({ ...binding, policy: { ...binding.policy, schedule: undefined, perWorkerContributionCap: undefined, perAddressRewardCapWei: undefined }, allowlist: undefined });
  });
});
