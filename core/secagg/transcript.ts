/**
 * The exact bytes that SecAgg+ signs, hashes, authenticates or feeds to HKDF. Worker and
 * coordinator both build them here, so they cannot drift apart.
 *
 * Every encoding starts with a domain string and length-prefixes each field, so no two different
 * field lists give the same bytes and nothing signed for one purpose verifies for another. All of
 * them bind runId and round: a message or key from another round never fits this one.
 */
import type { KeyAgreement } from '../protocol/secagg.js';
import { sha256 } from './crypto.js';

type Field = string | number | Uint8Array;
const utf8 = new TextEncoder();

/** Domain ‖ (u32 length ‖ bytes) for each field; numbers are encoded as decimal strings. */
export function encodeFields(domain: string, ...fields: Field[]): Uint8Array {
  const parts = [domain, ...fields].map((f) => (f instanceof Uint8Array ? f : utf8.encode(String(f))));
  const total = parts.reduce((n, p) => n + 4 + p.byteLength, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    view.setUint32(off, p.byteLength);
    out.set(p, off + 4);
    off += 4 + p.byteLength;
  }
  return out;
}

/** Signs bytes with the worker's identity key (the lead plugs in EIP-191 `wallet.signMessage`). */
export type SecAggSign = (bytes: Uint8Array) => Promise<string>;
/** True if `signature` over `bytes` was made by identity `id` (e.g. ethers `verifyMessage(bytes, sig) === id`). */
export type SecAggVerify = (bytes: Uint8Array, signature: string, id: string) => boolean;

export interface RoundContext {
  runId: string;
  round: number;
}

/** What a worker signs in advertise-keys (Bonawitz et al. round 0, active setting). */
export function advertisementBytes(
  ctx: RoundContext,
  ad: { id: string; keyAgreement: KeyAgreement; cPk: Uint8Array; sPk: Uint8Array; bCommit: Uint8Array },
): Uint8Array {
  return encodeFields('cohort/secagg/advertise/v1', ctx.runId, ctx.round, ad.id, ad.keyAgreement, ad.cPk, ad.sPk, ad.bCommit);
}

/** SHA-256 commitment to the self-mask seed b, so a reconstructed b can be recognised. */
export function selfMaskCommitment(ctx: RoundContext, id: string, b: Uint8Array): Promise<Uint8Array> {
  return sha256(encodeFields('cohort/secagg/b-commit/v1', ctx.runId, ctx.round, id, b));
}

export type ShareKind = 'b' | 's';

/** Hash of one share, published by its dealer, so the coordinator can tell which holder revealed a bad one. */
export function shareHash(ctx: RoundContext, kind: ShareKind, dealer: string, holder: string, share: Uint8Array): Promise<Uint8Array> {
  return sha256(encodeFields('cohort/secagg/share/v1', ctx.runId, ctx.round, kind, dealer, holder, share));
}

/**
 * A dealer's share-keys reply as a Merkle tree: one leaf per holder binding the ciphertext it was
 * sent and the hashes of the two shares inside, nodes hashing sorted pairs, and the root signed once
 * (core/secagg/dealt-tree.ts). A holder checks its leaf with a short proof, so a dealer cannot
 * disown hashes it published and a coordinator cannot forge them.
 */
export function dealtLeafBytes(
  ctx: RoundContext,
  dealer: string,
  holder: string,
  dealt: { ciphertext: Uint8Array; bShareHash: Uint8Array; sShareHash: Uint8Array },
): Uint8Array {
  return encodeFields('cohort/secagg/dealt-leaf/v1', ctx.runId, ctx.round, dealer, holder, dealt.ciphertext, dealt.bShareHash, dealt.sShareHash);
}

export function dealtNodeBytes(low: Uint8Array, high: Uint8Array): Uint8Array {
  return encodeFields('cohort/secagg/dealt-node/v1', low, high);
}

/** What a dealer signs in share-keys: the root of the tree over its dealt shares. */
export function dealtRootBytes(ctx: RoundContext, dealer: string, root: Uint8Array): Uint8Array {
  return encodeFields('cohort/secagg/dealt-root/v1', ctx.runId, ctx.round, dealer, root);
}

/** AES-GCM associated data of a share ciphertext: binds sender, receiver, run and round. */
export function shareAad(ctx: RoundContext, from: string, to: string): Uint8Array {
  return encodeFields('cohort/secagg/share-aad/v1', ctx.runId, ctx.round, from, to);
}

export type PairPurpose = 'share-encryption' | 'mask';

/**
 * HKDF info for a pair's key: symmetric in (a, b), so both ends derive the same key from the
 * same Diffie–Hellman secret.
 */
export function pairInfo(ctx: RoundContext, purpose: PairPurpose, a: string, b: string): Uint8Array {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  return encodeFields('cohort/secagg/pair/v1', purpose, ctx.runId, ctx.round, lo, hi);
}

/**
 * What every survivor signs in the consistency check: a digest of the sorted survivor set. Under
 * group scoring it also covers `scoringParams` (scoringParamsDigest), so a neighbour whose
 * signature verifies was shown the same participants, graph and minGroupSize, and computes the
 * same scoring groups: a coordinator cannot give two neighbours different groupings.
 */
export async function survivorSetBytes(ctx: RoundContext, survivors: readonly string[], scoringParams?: Uint8Array): Promise<Uint8Array> {
  const digest = await sha256(encodeFields('cohort/secagg/survivors/v1', ...survivors));
  if (scoringParams) return encodeFields('cohort/secagg/consistency/v2-scoring', ctx.runId, ctx.round, survivors.length, digest, scoringParams);
  return encodeFields('cohort/secagg/consistency/v1', ctx.runId, ctx.round, survivors.length, digest);
}

/** Everything besides the survivor set that decides the scoring groups: participants, graph seed, k and minGroupSize. */
export async function scoringParamsDigest(p: { participants: readonly string[]; graphSeed: Uint8Array; neighbours: number; minGroupSize: number }): Promise<Uint8Array> {
  return sha256(encodeFields('cohort/secagg/scoring-params/v1', p.graphSeed, p.neighbours, p.minGroupSize, ...p.participants));
}

/**
 * The seed of the contribution-scoring groups (core/secagg/scoring-groups.ts): the run, the round
 * and the survivor set every worker signs, so two workers that verified the same signed set
 * compute the same groups, and nobody can know the groups before that set is fixed.
 */
export async function scoringGroupSeed(ctx: RoundContext, survivors: readonly string[], scoringParams?: Uint8Array): Promise<Uint8Array> {
  return sha256(encodeFields('cohort/secagg/scoring-groups/v1', await survivorSetBytes(ctx, survivors, scoringParams)));
}
