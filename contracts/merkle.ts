/**
 * The off-chain half of the ledger: a round's packed (worker, amount) list, and the Merkle tree of
 * every worker's CUMULATIVE reward that the contract checks claims against.
 *
 * Leaves are OpenZeppelin StandardMerkleTree leaves with types ['address', 'uint256'], which hashes
 * them as keccak256(keccak256(abi.encode(account, cumulativeAmount))), exactly as
 * ContributionLedger.claim does; inner nodes hash the sorted pair, as MerkleProof.verify does.
 * Runtime-neutral (no Node imports): the browser worker uses it to check its own proof.
 *
 * @example
 *   let cumulative = new Map<string, bigint>();
 *   cumulative = accumulate(cumulative, roundEntries);
 *   const tree = RewardTree.build(cumulative);
 *   // coordinator: recordRound(..., packRound(roundEntries), tree.root)
 *   // worker: claim(..., tree.proof(myAddress))
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, ZeroHash, getAddress, getBytes, hexlify, keccak256, type BytesLike } from 'ethers';
import { CohortError } from '../core/protocol/errors.js';

export const LEAF_ENCODING = ['address', 'uint256'];
/** A round's amounts travel as uint96: 7.9e28 base units per worker per round. */
export const MAX_ROUND_AMOUNT = (1n << 96n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;
/** Bytes per worker in a packed round: a 20-byte address then a 12-byte big-endian amount. */
export const PACKED_ENTRY_BYTES = 32;

export interface RewardEntry {
  /** The worker's address (its identity and reward address). */
  readonly account: string;
  /** Reward in the token's base units (wei for ETH). */
  readonly amount: bigint;
}

export interface RewardProof {
  readonly account: string;
  readonly cumulativeAmount: bigint;
  readonly proof: readonly string[];
}

/** Checksummed address, or E_LEDGER_INPUT. */
export function normalizeAddress(account: string): string {
  try {
    return getAddress(account);
  } catch (err) {
    throw new CohortError('E_LEDGER_INPUT', `not an address: ${JSON.stringify(account)}`, { cause: err });
  }
}

/**
 * Encodes a round's list as the contract's `packed` argument: abi.encodePacked of
 * (address, uint96) pairs, in the order given. Each worker at most once.
 */
export function packRound(entries: readonly RewardEntry[]): string {
  const out = new Uint8Array(entries.length * PACKED_ENTRY_BYTES);
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    const account = normalizeAddress(entry.account);
    if (seen.has(account)) throw new CohortError('E_LEDGER_INPUT', `${account} appears twice in the round`);
    seen.add(account);
    if (entry.amount < 0n || entry.amount > MAX_ROUND_AMOUNT) {
      throw new CohortError('E_LEDGER_INPUT', `round amount for ${account} is outside 0..2^96-1: ${entry.amount}`);
    }
    const base = i * PACKED_ENTRY_BYTES;
    out.set(getBytes(account), base);
    let amount = entry.amount;
    for (let b = PACKED_ENTRY_BYTES - 1; b >= 20; b--) {
      out[base + b] = Number(amount & 0xffn);
      amount >>= 8n;
    }
  });
  return hexlify(out);
}

/** Decodes a `packed` list from a RoundRecorded event; the inverse of packRound. */
export function unpackRound(packed: BytesLike): RewardEntry[] {
  const bytes = getBytes(packed);
  if (bytes.length % PACKED_ENTRY_BYTES !== 0) {
    throw new CohortError('E_LEDGER_INPUT', `packed round length ${bytes.length} is not a multiple of ${PACKED_ENTRY_BYTES}`);
  }
  const entries: RewardEntry[] = [];
  for (let base = 0; base < bytes.length; base += PACKED_ENTRY_BYTES) {
    let amount = 0n;
    for (let b = 20; b < PACKED_ENTRY_BYTES; b++) amount = (amount << 8n) | BigInt(bytes[base + b] ?? 0);
    entries.push({ account: getAddress(hexlify(bytes.subarray(base, base + 20))), amount });
  }
  return entries;
}

/** Sum of a round's amounts: the `roundTotal` to record. */
export function sumRound(entries: readonly RewardEntry[]): bigint {
  return entries.reduce((sum, e) => sum + e.amount, 0n);
}

/** A new cumulative map: `previous` plus this round's amounts. Keys are checksummed addresses. */
export function accumulate(previous: ReadonlyMap<string, bigint>, round: readonly RewardEntry[]): Map<string, bigint> {
  const next = new Map<string, bigint>();
  for (const [account, amount] of previous) next.set(normalizeAddress(account), amount);
  for (const { account, amount } of round) {
    const key = normalizeAddress(account);
    next.set(key, (next.get(key) ?? 0n) + amount);
  }
  return next;
}

/** The leaf the contract computes for (account, cumulativeAmount). */
export function leafHash(account: string, cumulativeAmount: bigint): string {
  const encoded = AbiCoder.defaultAbiCoder().encode(LEAF_ENCODING, [normalizeAddress(account), cumulativeAmount]);
  return keccak256(keccak256(encoded));
}

/** Checks a proof the way the contract does, without a chain. */
export function verifyRewardProof(root: string, account: string, cumulativeAmount: bigint, proof: readonly string[]): boolean {
  if (root === ZeroHash) return false;
  return StandardMerkleTree.verify(root, LEAF_ENCODING, [normalizeAddress(account), cumulativeAmount], [...proof]);
}

/** JSON-safe form of a RewardTree, for the run store. */
export interface RewardTreeDump {
  readonly format: 'cohort-rewards-v1';
  readonly root: string;
  /** [checksummed address, decimal cumulative amount], sorted by address. */
  readonly entries: readonly (readonly [string, string])[];
}

/** The Merkle tree over every worker's cumulative reward. Zero amounts are left out (nothing to claim). */
export class RewardTree {
  private readonly amounts: ReadonlyMap<string, bigint>;
  private readonly tree: StandardMerkleTree<[string, bigint]> | undefined;
  private readonly index: ReadonlyMap<string, number>;

  private constructor(amounts: Map<string, bigint>) {
    this.amounts = amounts;
    const values = [...amounts].map(([account, amount]): [string, bigint] => [account, amount]);
    this.tree = values.length === 0 ? undefined : StandardMerkleTree.of(values, LEAF_ENCODING);
    const index = new Map<string, number>();
    if (this.tree) for (const [i, [account]] of this.tree.entries()) index.set(account, i);
    this.index = index;
  }

  static build(cumulative: ReadonlyMap<string, bigint>): RewardTree {
    const amounts = new Map<string, bigint>();
    for (const [account, amount] of cumulative) {
      const key = normalizeAddress(account);
      if (amount < 0n || amount > MAX_UINT256) throw new CohortError('E_LEDGER_INPUT', `cumulative amount for ${key} out of range`);
      if (amounts.has(key)) throw new CohortError('E_LEDGER_INPUT', `${key} appears twice`);
      if (amount > 0n) amounts.set(key, amount);
    }
    return new RewardTree(amounts);
  }

  static load(dump: RewardTreeDump): RewardTree {
    if (dump.format !== 'cohort-rewards-v1') throw new CohortError('E_LEDGER_INPUT', `unknown reward tree format ${String(dump.format)}`);
    const tree = RewardTree.build(new Map(dump.entries.map(([a, v]) => [a, BigInt(v)])));
    if (tree.root !== dump.root) throw new CohortError('E_LEDGER_INPUT', `reward tree dump does not match its root ${dump.root}`);
    return tree;
  }

  /** The root to record; ZeroHash for an empty tree (nobody can claim). */
  get root(): string {
    return this.tree?.root ?? ZeroHash;
  }

  get size(): number {
    return this.amounts.size;
  }

  /** Cumulative amount for `account`, 0n if absent. */
  amountOf(account: string): bigint {
    return this.amounts.get(normalizeAddress(account)) ?? 0n;
  }

  /** What `account` passes to claim(); E_LEDGER_NOT_IN_TREE if it has no reward. */
  proof(account: string): RewardProof {
    const key = normalizeAddress(account);
    const i = this.index.get(key);
    const amount = this.amounts.get(key);
    if (!this.tree || i === undefined || amount === undefined) {
      throw new CohortError('E_LEDGER_NOT_IN_TREE', `${key} has no reward in this tree`);
    }
    return { account: key, cumulativeAmount: amount, proof: this.tree.getProof(i) };
  }

  /** Every (account, cumulative amount), sorted by address. */
  entries(): [string, bigint][] {
    return [...this.amounts].sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  }

  dump(): RewardTreeDump {
    return { format: 'cohort-rewards-v1', root: this.root, entries: this.entries().map(([a, v]) => [a, v.toString()] as const) };
  }
}
