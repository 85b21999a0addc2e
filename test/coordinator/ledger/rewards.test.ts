// The reward maths, hand-computed: budget per round, proportional split with largest remainders,
// the per-worker contribution cap, the per-address reward cap (water-filling) and the allowlist.
import { describe, expect, it } from 'vitest';
import { apportion, checkAllowed, allowlistOf, creditedWork, isAllowed, roundReward, splitRound } from '../../../coordinator/ledger/rewards.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
const C = '0x3333333333333333333333333333333333333333';
const c = (address: string, amount: number): { address: string; amount: number } => ({ address, amount });
const amounts = (split: { entries: { account: string; amount: bigint }[] }): Record<string, bigint> =>
  Object.fromEntries(split.entries.map((e) => [e.account, e.amount]));

describe('roundReward', () => {
  it('gives each round ⌊budget ÷ rounds⌋ and the last round the remainder', () => {
    const policy = { budgetWei: 10n, rounds: 3 };
    expect([1, 2, 3].map((r) => roundReward(policy, r))).toEqual([3n, 3n, 4n]);
    expect([0, 4, 1.5].map((r) => roundReward(policy, r))).toEqual([0n, 0n, 0n]);
  });

  it('follows a schedule when there is one', () => {
    expect([1, 2, 3].map((r) => roundReward({ budgetWei: 10n, rounds: 3, schedule: [5n, 3n, 2n] }, r))).toEqual([5n, 3n, 2n]);
  });
});

describe('splitRound', () => {
  it('splits in proportion to declared work, the remainders to the largest fractions', () => {
    // 10 × 1/3 = 3.33 and 10 × 2/3 = 6.67: B has the larger fraction, so B gets the spare unit.
    const split = splitRound({ reward: 10n, contributions: [c(A, 100), c(B, 200)] });
    expect(amounts(split)).toEqual({ [A]: 3n, [B]: 7n });
    expect([split.total, split.unallocated]).toEqual([10n, 0n]);
  });

  it('breaks equal fractions by address, whatever the order given', () => {
    const split = splitRound({ reward: 100n, contributions: [c(C, 5), c(B, 5), c(A, 5)] });
    expect(split.entries).toEqual([
      { account: A, amount: 34n },
      { account: B, amount: 33n },
      { account: C, amount: 33n },
    ]);
  });

  it('scales the reward down by what quality factors withhold, instead of handing it to the few who qualify', () => {
    // Three workers each credited 100 units of work; quality factors 1, 0.5 and 0 leave 150 of 300:
    // the round pays half its reward, split 2:1, and the rest stays unallocated.
    const split = splitRound({
      reward: 900n,
      contributions: [
        { address: A, amount: 100, unscaledAmount: 100 },
        { address: B, amount: 50, unscaledAmount: 100 },
        { address: C, amount: 0, unscaledAmount: 100 },
      ],
    });
    expect(amounts(split)).toEqual({ [A]: 300n, [B]: 150n });
    expect([split.total, split.unallocated]).toEqual([450n, 450n]);
    // The cap comes before the factor: over a cap of 1000, 4000 units at factor 0.25 count as 250, not 1000.
    const capped = splitRound({
      reward: 2000n,
      perWorkerContributionCap: 1000,
      contributions: [
        { address: A, amount: 1000, unscaledAmount: 4000 },
        { address: B, amount: 1000, unscaledAmount: 1000 },
      ],
    });
    expect(amounts(capped)).toEqual({ [A]: 250n, [B]: 1000n });
    expect(capped.unallocated).toBe(750n);
    // One worker alone qualifying earns its own share of the round (1/3), not all of it.
    const thin = splitRound({ reward: 900n, contributions: [{ address: A, amount: 100, unscaledAmount: 100 }, { address: B, amount: 0, unscaledAmount: 100 }, { address: C, amount: 0, unscaledAmount: 100 }] });
    expect(amounts(thin)).toEqual({ [A]: 300n });
  });

  it('caps each worker\'s credited work at the per-worker limit', () => {
    // 60 000 is credited as 40 000: 700 splits 4:3.
    const split = splitRound({ reward: 700n, contributions: [c(A, 60_000), c(B, 30_000)], perWorkerContributionCap: 40_000 });
    expect(amounts(split)).toEqual({ [A]: 400n, [B]: 300n });
    expect(creditedWork(12.9)).toBe(12n);
    expect(creditedWork(-3)).toBe(0n);
  });

  it('hands what a capped address cannot take to the others (water-filling)', () => {
    // A may earn 10 more; B and C split the other 90.
    const split = splitRound({
      reward: 100n,
      contributions: [c(A, 1), c(B, 1), c(C, 1)],
      perAddressRewardCapWei: 1_000n,
      cumulative: new Map([[A, 990n]]),
    });
    expect(amounts(split)).toEqual({ [A]: 10n, [B]: 45n, [C]: 45n });
    expect(split.unallocated).toBe(0n);
  });

  it('leaves unallocated what every capped address together cannot take', () => {
    const split = splitRound({
      reward: 100n,
      contributions: [c(A, 1), c(B, 1), c(C, 1)],
      perAddressRewardCapWei: 30n,
      cumulative: new Map([[A, 20n], [C, 30n]]),
    });
    // A has 10 of headroom, B 30, C none.
    expect(amounts(split)).toEqual({ [A]: 10n, [B]: 30n });
    expect([split.total, split.unallocated]).toEqual([40n, 60n]);
  });

  it('pays nobody for an empty round or zero work, and refuses a worker listed twice', () => {
    expect(splitRound({ reward: 50n, contributions: [] })).toEqual({ entries: [], total: 0n, unallocated: 50n });
    expect(splitRound({ reward: 50n, contributions: [c(A, 0)] }).unallocated).toBe(50n);
    expect(() => splitRound({ reward: 50n, contributions: [c(A, 1), c(A.toLowerCase(), 2)] })).toThrow(expect.objectContaining({ code: 'E_LEDGER_INPUT' }));
  });

  it('pays nothing to an address missing from the allowlist', () => {
    const split = splitRound({ reward: 9n, contributions: [c(A, 1), c(B, 1)], allowlist: allowlistOf([B.toLowerCase()]) });
    expect(amounts(split)).toEqual({ [B]: 9n });
  });

  it('never pays more than the round reward or any address more than its cap (random cases)', () => {
    let seed = 12_345;
    const rand = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const people = Array.from({ length: 12 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`);
    for (let trial = 0; trial < 300; trial++) {
      const reward = BigInt(rand(1_000_000_007)) * 1_000_003n;
      const cap = trial % 2 ? BigInt(rand(1_000_000)) * 997n + 1n : undefined;
      const workers = people.filter(() => rand(3) > 0);
      const cumulative = new Map(workers.map((w) => [w, BigInt(rand(1_000_000)) * 500n]));
      const split = splitRound({ reward, contributions: workers.map((w) => c(w, rand(5_000))), perAddressRewardCapWei: cap, cumulative, perWorkerContributionCap: 3_000 });
      expect(split.total + split.unallocated).toBe(reward);
      expect(split.total <= reward).toBe(true);
      for (const e of split.entries) {
        expect(e.amount > 0n).toBe(true);
        if (cap !== undefined) expect((cumulative.get(e.account) ?? 0n) + e.amount <= cap).toBe(true);
      }
      if (cap === undefined && split.entries.length > 0) expect(split.unallocated).toBe(0n);
    }
  });
});

describe('apportion', () => {
  it('sums to the total exactly', () => {
    const parts = apportion(1_000_000_000_000_000_001n, [[A, 7n], [B, 11n], [C, 13n]]);
    expect([...parts.values()].reduce((s, v) => s + v, 0n)).toBe(1_000_000_000_000_000_001n);
  });
});

describe('allowlist', () => {
  it('admits everyone without a list, and only listed addresses (any case) with one', () => {
    const list = allowlistOf([A]);
    expect(isAllowed(undefined, B)).toBe(true);
    expect(isAllowed(list, A.toLowerCase())).toBe(true);
    expect(isAllowed(list, 'not an address')).toBe(false);
    expect(() => checkAllowed(list, B)).toThrow(expect.objectContaining({ code: 'E_NOT_ALLOWED' }));
  });
});
