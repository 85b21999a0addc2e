// The Merkle tree over a dealer's share-keys reply: every leaf's proof leads to the signed root, for
// any number of holders, and a changed leaf, proof or position does not.
import { describe, expect, it } from 'vitest';
import { bytesEqual, randomBytes } from '../../../core/secagg/crypto.js';
import { buildDealtTree, rootFromProof, type DealtLeaf } from '../../../core/secagg/dealt-tree.js';

const ctx = { runId: 'r', round: 3 };
const leaves = (n: number): DealtLeaf[] =>
  Array.from({ length: n }, (_, i) => ({ holder: `h${i}`, ciphertext: randomBytes(96), bShareHash: randomBytes(32), sShareHash: randomBytes(32) }));

describe('dealt tree', () => {
  it.each([1, 2, 3, 7, 8, 9, 36])('with %i holders every proof reaches the root, within ⌈log2 n⌉ hashes', async (n) => {
    // Prepare
    const all = leaves(n);

    // Execute
    const { root, proofs } = await buildDealtTree(ctx, 'dealer', all);
    const roots = await Promise.all(all.map((leaf, i) => rootFromProof(ctx, 'dealer', leaf, proofs[i]!)));

    // Assert
    for (const r of roots) expect(bytesEqual(r, root)).toBe(true);
    for (const p of proofs) expect(p.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
  });

  it('a changed hash, another dealer, another round or another leaf’s proof gives another root', async () => {
    // Prepare
    const all = leaves(5);
    const { root, proofs } = await buildDealtTree(ctx, 'dealer', all);
    const leaf = all[2]!;
    const other = (r: Uint8Array) => !bytesEqual(r, root);

    // Execute
    const changed = await Promise.all([
      rootFromProof(ctx, 'dealer', { ...leaf, bShareHash: randomBytes(32) }, proofs[2]!),
      rootFromProof(ctx, 'someone', leaf, proofs[2]!),
      rootFromProof({ ...ctx, round: 4 }, 'dealer', leaf, proofs[2]!),
      rootFromProof(ctx, 'dealer', leaf, proofs[0]!),
    ]);

    // Assert
    expect(changed.every(other)).toBe(true);
  });
});
