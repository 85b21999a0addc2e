import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { Wallet, ZeroHash } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  LEAF_ENCODING, MAX_ROUND_AMOUNT, RewardTree, accumulate, leafHash, packRound, sumRound, unpackRound, verifyRewardProof,
} from '../../contracts/merkle.js';

const addresses = Array.from({ length: 7 }, (_, i) => new Wallet(`0x${(i + 1).toString(16).padStart(64, '0')}`).address);
const at = (i: number): string => addresses[i] ?? '';

describe('packRound / unpackRound', () => {
  it('packs 32 bytes per worker and round-trips', () => {
    // Prepare
    const entries = [{ account: at(0), amount: 5n }, { account: at(1), amount: MAX_ROUND_AMOUNT }];
    // Execute
    const packed = packRound(entries);
    // Assert
    expect(packed.length).toBe(2 + 2 * 64);
    expect(packed.slice(2, 42)).toBe(at(0).slice(2).toLowerCase());
    expect(packed.slice(42, 66)).toBe('000000000000000000000005');
    expect(unpackRound(packed)).toEqual(entries);
    expect(sumRound(entries)).toBe(5n + MAX_ROUND_AMOUNT);
  });

  it('refuses amounts beyond uint96, negative amounts, duplicates and bad addresses', () => {
    expect(() => packRound([{ account: at(0), amount: MAX_ROUND_AMOUNT + 1n }])).toThrow(/2\^96/);
    expect(() => packRound([{ account: at(0), amount: -1n }])).toThrow(/outside/);
    expect(() => packRound([{ account: at(0), amount: 1n }, { account: at(0).toLowerCase(), amount: 2n }])).toThrow(/twice/);
    expect(() => packRound([{ account: '0x1234', amount: 1n }])).toThrow(/not an address/);
    expect(() => unpackRound('0x1234')).toThrow(/multiple of 32/);
  });

  it('packs an empty round as empty bytes', () => {
    expect(packRound([])).toBe('0x');
    expect(unpackRound('0x')).toEqual([]);
  });
});

describe('RewardTree', () => {
  it('hashes leaves exactly as StandardMerkleTree (double keccak of abi.encode)', () => {
    const tree = StandardMerkleTree.of([[at(0), 10n]], LEAF_ENCODING);
    expect(leafHash(at(0), 10n)).toBe(tree.leafHash([at(0), 10n]));
    // A single leaf is its own root, and the contract accepts an empty proof for it.
    expect(RewardTree.build(new Map([[at(0), 10n]])).root).toBe(tree.root);
  });

  it('gives the same root whatever the insertion order or address case', () => {
    const a = RewardTree.build(new Map([[at(0), 1n], [at(1), 2n], [at(2), 3n]]));
    const b = RewardTree.build(new Map([[at(2).toLowerCase(), 3n], [at(0), 1n], [at(1), 2n]]));
    expect(a.root).toBe(b.root);
  });

  it('issues proofs that verify, and only for the right amount', () => {
    const cumulative = new Map(addresses.map((a, i) => [a, BigInt(i + 1) * 100n]));
    const tree = RewardTree.build(cumulative);
    for (const account of addresses) {
      const p = tree.proof(account);
      expect(verifyRewardProof(tree.root, account, p.cumulativeAmount, p.proof)).toBe(true);
      expect(verifyRewardProof(tree.root, account, p.cumulativeAmount + 1n, p.proof)).toBe(false);
    }
  });

  it('leaves zero amounts out and has ZeroHash as the empty root', () => {
    const tree = RewardTree.build(new Map([[at(0), 0n]]));
    expect(tree.root).toBe(ZeroHash);
    expect(tree.size).toBe(0);
    expect(() => tree.proof(at(0))).toThrow(expect.objectContaining({ code: 'E_LEDGER_NOT_IN_TREE' }));
  });

  it('survives a JSON dump and load, and refuses a tampered dump', () => {
    const tree = RewardTree.build(new Map([[at(0), 7n], [at(1), 9n]]));
    const dump = JSON.parse(JSON.stringify(tree.dump())) as ReturnType<RewardTree['dump']>;
    expect(RewardTree.load(dump).root).toBe(tree.root);
    const tampered = { ...dump, entries: dump.entries.map(([a]) => [a, '1'] as const) };
    expect(() => RewardTree.load(tampered)).toThrow(/does not match/);
  });
});

describe('accumulate', () => {
  it('adds each round to the running totals', () => {
    // Prepare
    const r1 = [{ account: at(0), amount: 10n }, { account: at(1), amount: 5n }];
    const r2 = [{ account: at(1).toLowerCase(), amount: 7n }, { account: at(2), amount: 1n }];
    // Execute
    const totals = accumulate(accumulate(new Map(), r1), r2);
    // Assert
    expect([...totals]).toEqual([[at(0), 10n], [at(1), 12n], [at(2), 1n]]);
  });
});
