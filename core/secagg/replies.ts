/**
 * The coordinator's checks on worker replies that carry keys or shares. Each returns what the
 * coordinator keeps, or throws CohortError E_SECAGG_INVALID; the server then drops the sender.
 *
 * Share hashes (published by each dealer in share-keys) are what make a bad reveal attributable:
 * Shamir shares carry no authentication of their own, so without them a single wrong share would
 * spoil a reconstruction without saying who sent it. A dealer whose hashes lie is caught earlier,
 * by its holders' complaints in masked-input (core/secagg/complaints.ts).
 */
import { CohortError } from '../protocol/errors.js';
import type { KeyAgreement, SecAggReplyOf } from '../protocol/secagg.js';
import { bytesEqual, publicKeyLength } from './crypto.js';
import { buildDealtTree } from './dealt-tree.js';
import type { SealedSharePair } from './share-exchange.js';
import { advertisementBytes, shareHash, type RoundContext, type SecAggVerify } from './transcript.js';

/** Keyed by worker id. */
export type ByWorker = Map<string, Uint8Array>;

/** What a dealer sent in share-keys: one sealed share pair per holder, and the hashes to check reveals against. */
export interface DealtShares {
  /** Holder → the ciphertext and published hashes, with the holder's proof in the dealer's tree. */
  sealed: Map<string, SealedSharePair & { proof: Uint8Array[] }>;
  /** The dealer's signature over the tree's root (checked only if a holder disputes its hashes). */
  dealtSignature: string;
  /**
   * Holder → the hash its revealed b share must have (the dealer itself included): the dealer's
   * published one, or the coordinator's own after it upheld the holder's complaint
   * (core/secagg/complaints.ts); null when the complaint left nothing to check against.
   */
  bHashes: Map<string, Uint8Array | null>;
  /** Holder → the hash its revealed s_sk share must have (same rules). */
  sHashes: Map<string, Uint8Array | null>;
}

const invalid = (m: string) => new CohortError('E_SECAGG_INVALID', m);

/** advertise-keys: right algorithm, right key lengths, signed by `from`. */
export function checkAdvertisement(
  ctx: RoundContext,
  alg: KeyAgreement,
  from: string,
  r: SecAggReplyOf<'advertise-keys'>,
  verify: SecAggVerify,
): void {
  const len = publicKeyLength(alg);
  if (r.keyAgreement !== alg) throw invalid(`${from} advertised ${r.keyAgreement} keys; this round uses ${alg}`);
  if (r.cPk.byteLength !== len || r.sPk.byteLength !== len) throw invalid(`${from} advertised keys of the wrong length`);
  const bytes = advertisementBytes(ctx, { id: from, keyAgreement: r.keyAgreement, cPk: r.cPk, sPk: r.sPk, bCommit: r.bCommit });
  if (!verify(bytes, r.signature, from)) throw invalid(`advertisement signature does not verify for ${from}`);
}

/** share-keys: exactly one sealed pair for each holder the dealer was shown; builds each holder's proof. */
export async function checkDealtShares(ctx: RoundContext, from: string, r: SecAggReplyOf<'share-keys'>, holders: ReadonlySet<string>): Promise<DealtShares> {
  const dealt: DealtShares = { sealed: new Map(), dealtSignature: r.dealtSignature, bHashes: new Map([[from, r.selfShareHash]]), sHashes: new Map() };
  for (const { to, ...sealed } of r.shares) {
    if (!holders.has(to) || dealt.sealed.has(to)) throw invalid(`${from} sent a share for ${to}, which is not one of its holders or is repeated`);
    dealt.sealed.set(to, { ...sealed, proof: [] });
    dealt.bHashes.set(to, sealed.bShareHash);
    dealt.sHashes.set(to, sealed.sShareHash);
  }
  if (dealt.sealed.size !== holders.size) throw invalid(`${from} shared with ${dealt.sealed.size} of its ${holders.size} neighbours`);
  const { proofs } = await buildDealtTree(ctx, from, r.shares.map((x) => ({ holder: x.to, ...x })));
  r.shares.forEach((x, i) => (dealt.sealed.get(x.to)!.proof = proofs[i]!));
  return dealt;
}

/**
 * unmask: exactly the b shares and s_sk shares asked for (disjoint sets, so never both of one
 * worker), each equal to the share its dealer committed to for this holder.
 */
export async function checkRevealedShares(
  ctx: RoundContext,
  from: string,
  r: SecAggReplyOf<'unmask'>,
  want: { b: readonly string[]; s: readonly string[] },
  dealtBy: (dealer: string) => DealtShares | undefined,
): Promise<{ b: ByWorker; s: ByWorker }> {
  const b: ByWorker = new Map(r.bShares.map((x) => [x.of, x.share]));
  const s: ByWorker = new Map(r.sShares.map((x) => [x.of, x.share]));
  const same = (got: ByWorker, n: number, ids: readonly string[]) => got.size === n && got.size === ids.length && ids.every((id) => got.has(id));
  if (!same(b, r.bShares.length, want.b) || !same(s, r.sShares.length, want.s)) {
    throw invalid(`${from} revealed a different set of shares than asked for`);
  }
  const check = async (kind: 'b' | 's', dealer: string, share: Uint8Array): Promise<void> => {
    const dealt = dealtBy(dealer);
    const expected = (kind === 'b' ? dealt?.bHashes : dealt?.sHashes)?.get(from);
    if (expected === null) return; // its dealer was caught lying about it: nothing to hold this holder to
    if (!expected || !bytesEqual(expected, await shareHash(ctx, kind, dealer, from, share))) {
      throw invalid(`${from} revealed a ${kind === 'b' ? 'self-mask' : 'key'} share of ${dealer} that differs from the one dealt`);
    }
  };
  await Promise.all([...[...b].map(([d, x]) => check('b', d, x)), ...[...s].map(([d, x]) => check('s', d, x))]);
  return { b, s };
}
