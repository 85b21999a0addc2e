/**
 * The worker's half of exchanging secret shares (Bonawitz et al. rounds 1 and 2): a dealer seals
 * one share pair per holder, hashes both shares and signs the root of a tree over them; a holder
 * opens what it was sent and checks it against the dealer's published hashes. Kept out of
 * client.ts so the stage machine there reads as the protocol, and so the coordinator can open a
 * disputed pair with the same code (core/secagg/complaints.ts).
 *
 * Why sign: the hashes reach the holder through the coordinator. A holder discloses the pair key
 * only for hashes the dealer really signed, so a coordinator that forges hashes learns nothing.
 */
import { CohortError } from '../protocol/errors.js';
import type { DealerComplaint } from '../protocol/secagg.js';
import { aesGcmDecrypt, aesGcmEncrypt, bytesEqual } from './crypto.js';
import { buildDealtTree, rootFromProof } from './dealt-tree.js';
import { decodeSharePair, encodeSharePair } from './shares.js';
import { dealtRootBytes, shareAad, shareHash, type RoundContext, type SecAggSign, type SecAggVerify } from './transcript.js';

export interface SharePair {
  bShare: Uint8Array;
  sShare: Uint8Array;
}

/** What a dealer publishes for one holder: the sealed pair and the hashes of its two shares. */
export interface SealedSharePair {
  ciphertext: Uint8Array;
  bShareHash: Uint8Array;
  sShareHash: Uint8Array;
}

/** As forwarded to the holder: with its proof in the dealer's tree and the dealer's signature of the root. */
export interface PublishedSharePair extends SealedSharePair {
  proof: readonly Uint8Array[];
  dealtSignature: string;
}

/** Dealer side: encrypt `pair` for `holder` under their pair key and hash both shares. */
export async function sealSharePair(ctx: RoundContext, dealer: string, holder: string, pair: SharePair, pairKey: Uint8Array): Promise<SealedSharePair> {
  const plain = encodeSharePair(pair.bShare, pair.sShare);
  const ciphertext = await aesGcmEncrypt(pairKey, plain, shareAad(ctx, dealer, holder));
  plain.fill(0);
  const hashes = await hashSharePair(ctx, dealer, holder, pair);
  return { ciphertext, bShareHash: hashes.b, sShareHash: hashes.s };
}

/** Dealer side: sign the root of the tree over everything it dealt (one signature per round). */
export async function signDealtShares(ctx: RoundContext, dealer: string, shares: readonly ({ to: string } & SealedSharePair)[], sign: SecAggSign): Promise<string> {
  const { root } = await buildDealtTree(ctx, dealer, shares.map((x) => ({ holder: x.to, ...x })));
  return sign(dealtRootBytes(ctx, dealer, root));
}

/** The two hashes a dealer publishes for `holder`'s shares. */
export async function hashSharePair(ctx: RoundContext, dealer: string, holder: string, pair: SharePair): Promise<{ b: Uint8Array; s: Uint8Array }> {
  return { b: await shareHash(ctx, 'b', dealer, holder, pair.bShare), s: await shareHash(ctx, 's', dealer, holder, pair.sShare) };
}

/**
 * Decrypt and decode the pair `dealer` sealed for `holder`. Throws E_SECAGG_INVALID if the key does
 * not open it (tampered in transit) or it is malformed: both secrets are 32 bytes, so every share
 * is 33 (one byte carries its x coordinate).
 */
export async function openSharePair(ctx: RoundContext, dealer: string, holder: string, ciphertext: Uint8Array, pairKey: Uint8Array): Promise<SharePair> {
  let plain: Uint8Array;
  try {
    plain = await aesGcmDecrypt(pairKey, ciphertext, shareAad(ctx, dealer, holder));
  } catch (cause) {
    throw new CohortError('E_SECAGG_INVALID', `shares from ${dealer} failed authentication (tampered in transit?)`, { cause });
  }
  const pair = decodeSharePair(plain);
  plain.fill(0);
  if (pair.bShare.byteLength !== 33 || pair.sShare.byteLength !== 33) throw new CohortError('E_SECAGG_INVALID', `shares from ${dealer} have the wrong length`);
  return pair;
}

/** True if `published` is a leaf of a tree whose root `dealer` signed. */
export async function dealerSigned(ctx: RoundContext, dealer: string, holder: string, published: PublishedSharePair, verify: SecAggVerify): Promise<boolean> {
  const root = await rootFromProof(ctx, dealer, { holder, ...published }, published.proof);
  return verify(dealtRootBytes(ctx, dealer, root), published.dealtSignature, dealer);
}

/**
 * Holder side: compare the opened pair with the hashes its dealer published. Undefined when they
 * match; otherwise a complaint, carrying the pair key only if the dealer signed those hashes.
 */
export async function checkSharePair(
  ctx: RoundContext,
  dealer: string,
  holder: string,
  pair: SharePair,
  published: PublishedSharePair,
  pairKey: Uint8Array,
  verify: SecAggVerify,
): Promise<DealerComplaint | undefined> {
  const hashes = await hashSharePair(ctx, dealer, holder, pair);
  if (bytesEqual(hashes.b, published.bShareHash) && bytesEqual(hashes.s, published.sShareHash)) return undefined;
  return (await dealerSigned(ctx, dealer, holder, published, verify)) ? { dealer, pairKey: pairKey.slice() } : { dealer };
}
