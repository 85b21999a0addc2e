/**
 * The Merkle tree over one dealer's share-keys reply (leaf and node bytes: transcript.ts). Why a
 * tree: the dealer signs once per round instead of once per holder (an EIP-191 signature costs
 * milliseconds, and simulations run thousands of workers), and each holder still gets a proof of
 * its own leaf of about log2(k) hashes rather than everyone's hashes.
 *
 * Nodes hash their two children in byte order, so a proof is just the sibling hashes, leaf to root.
 */
import { sha256 } from './crypto.js';
import { dealtLeafBytes, dealtNodeBytes, type RoundContext } from './transcript.js';

export interface DealtLeaf {
  holder: string;
  ciphertext: Uint8Array;
  bShareHash: Uint8Array;
  sShareHash: Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function node(a: Uint8Array, b: Uint8Array): Promise<Uint8Array> {
  return compareBytes(a, b) <= 0 ? sha256(dealtNodeBytes(a, b)) : sha256(dealtNodeBytes(b, a));
}

export function leafHash(ctx: RoundContext, dealer: string, leaf: DealtLeaf): Promise<Uint8Array> {
  return sha256(dealtLeafBytes(ctx, dealer, leaf.holder, leaf));
}

/** The root, and each leaf's proof (in the order given). An odd node out moves up unpaired. */
export async function buildDealtTree(ctx: RoundContext, dealer: string, leaves: readonly DealtLeaf[]): Promise<{ root: Uint8Array; proofs: Uint8Array[][] }> {
  let level = await Promise.all(leaves.map((l) => leafHash(ctx, dealer, l)));
  let position = leaves.map((_, i) => i);
  const proofs: Uint8Array[][] = leaves.map(() => []);
  while (level.length > 1) {
    for (let leaf = 0; leaf < leaves.length; leaf++) {
      const sibling = level[position[leaf]! ^ 1];
      if (sibling) proofs[leaf]!.push(sibling);
    }
    const next: Promise<Uint8Array>[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? node(level[i]!, level[i + 1]!) : Promise.resolve(level[i]!));
    level = await Promise.all(next);
    position = position.map((p) => p >> 1);
  }
  return { root: level[0] ?? (await sha256(dealtNodeBytes(new Uint8Array(0), new Uint8Array(0)))), proofs };
}

/** The root that `proof` leads to from `leaf`. */
export async function rootFromProof(ctx: RoundContext, dealer: string, leaf: DealtLeaf, proof: readonly Uint8Array[]): Promise<Uint8Array> {
  let h = await leafHash(ctx, dealer, leaf);
  for (const sibling of proof) h = await node(h, sibling);
  return h;
}
