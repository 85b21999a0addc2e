/**
 * SecAgg+ on the wire: stage names, message keys and the zod schema of every stage's
 * coordinator → worker request and worker → coordinator reply. Defined here once; the worker's and
 * the coordinator's state machines (core/secagg/client.ts, core/secagg/stages/*.ts) both import them.
 *
 * Protocol: Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine
 * Learning", CCS 2017 (the four rounds plus the consistency check of the malicious setting), with
 * the sparse neighbour graph of Bell et al., "Secure Single-Server Aggregation with
 * (Poly)Logarithmic Overhead", CCS 2020.
 *
 * Share hashes: each dealer signs one Merkle root over its (holder, ciphertext, share hashes) entries
 * (core/secagg/dealt-tree.ts). The coordinator forwards each holder its entry, proof and signature,
 * so a holder can check what it received and complain about a dealer whose hashes lie
 * (core/secagg/complaints.ts); the coordinator then drops the dealer, not the holder.
 *
 * Binary fields are Uint8Array and the masked vector is a Uint32Array: msgpackr with `moreTypes`
 * (core/protocol/codec.ts) round-trips both as real typed arrays.
 *
 * @example
 * const parsed = secAggRequestSchema.safeParse(decoded);
 * if (parsed.success && parsed.data.stage === SECAGG_STAGE.maskedInput) { … }
 */
import { z } from 'zod';
import { roundSchema as round, runIdSchema as runId } from './fields.js';

/** The stages, in protocol order. A worker rejects any stage that is not the next one. */
export const SECAGG_STAGES = ['advertise-keys', 'share-keys', 'masked-input', 'consistency-check', 'unmask'] as const;
export type SecAggStage = (typeof SECAGG_STAGES)[number];

/** Named access to the stage strings, so no other file spells them. */
export const SECAGG_STAGE = {
  advertiseKeys: 'advertise-keys',
  shareKeys: 'share-keys',
  maskedInput: 'masked-input',
  consistencyCheck: 'consistency-check',
  unmask: 'unmask',
} as const satisfies Record<string, SecAggStage>;

/** The stage after `stage`, or null after the last one. */
export function nextSecAggStage(stage: SecAggStage): SecAggStage | null {
  return SECAGG_STAGES[SECAGG_STAGES.indexOf(stage) + 1] ?? null;
}

/** Message `type` tags: one for every request, one for every reply; `stage` tells them apart. */
export const SECAGG_REQUEST_TYPE = 'secagg-request';
export const SECAGG_REPLY_TYPE = 'secagg-reply';

/** Key agreement used for both key pairs of a round. The coordinator picks one per round. */
export const KEY_AGREEMENTS = ['X25519', 'P-256'] as const;
export type KeyAgreement = (typeof KEY_AGREEMENTS)[number];

/** Size limits on untrusted SecAgg fields (defaults; a frame is also bounded by WireLimits). */
export const SECAGG_LIMITS = {
  /** Workers in one round. */
  maxParticipants: 10_000,
  /** Neighbours per worker: Shamir over GF(2^8) allows at most 255 shares (k neighbours + self). */
  maxNeighbours: 254,
  /** A raw public key: 32 bytes (X25519) or 65 bytes (uncompressed P-256). */
  maxPublicKeyBytes: 65,
  /** One encrypted share pair: IV + (b share + pkcs8 share) + tag stays well under this. */
  maxShareCiphertextBytes: 1_024,
  /** One Shamir share (secret + 1 byte of x coordinate). */
  maxShareBytes: 256,
  /** An identity signature as the injected signer returns it (EIP-191 hex is 132 chars). */
  maxSignatureChars: 1_024,
  /** Model parameters (the masked vector carries one more word: the weight). */
  maxDimension: 100_000_000,
} as const;

const workerId = z.string().min(1).max(128);
const signature = z.string().min(1).max(SECAGG_LIMITS.maxSignatureChars);
// z.custom keeps the plain `Uint8Array` type (z.instanceof would narrow it to Uint8Array<ArrayBuffer>).
const bytes = (min: number, max: number) =>
  z
    .custom<Uint8Array>((v) => v instanceof Uint8Array, 'a byte string (msgpack bin)')
    .refine((b) => b.byteLength >= min && b.byteLength <= max, `between ${min} and ${max} bytes`);
const digest = bytes(32, 32);
const publicKey = bytes(32, SECAGG_LIMITS.maxPublicKeyBytes);
const share = bytes(2, SECAGG_LIMITS.maxShareBytes);
const idList = (max: number) => z.array(workerId).max(max);

/** The round's SecAgg+ parameters as they travel (see core/secagg/config.ts for their meaning). */
export const secAggConfigSchema = z.object({
  neighbours: z.number().int().min(2).max(SECAGG_LIMITS.maxNeighbours),
  threshold: z.number().int().min(2).max(SECAGG_LIMITS.maxNeighbours),
  clipRange: z.number().positive().max(1e9),
  bits: z.number().int().min(2).max(31),
  /** Contribution scoring groups (core/secagg/scoring-groups.ts); absent in a plain round. */
  groupScoring: z.object({ minGroupSize: z.number().int().min(3).max(SECAGG_LIMITS.maxParticipants) }).optional(),
});

const requestBase = { type: z.literal(SECAGG_REQUEST_TYPE), runId, round };
const replyBase = { type: z.literal(SECAGG_REPLY_TYPE), runId, round };

// ---------------------------------------------------------------- coordinator → worker

/** Round 0: the round's parameters. The worker derives its neighbours from `participants` + `graphSeed`. */
export const advertiseKeysRequestSchema = z.object({
  ...requestBase,
  stage: z.literal(SECAGG_STAGE.advertiseKeys),
  /** Every selected worker, sorted, unique. */
  participants: idList(SECAGG_LIMITS.maxParticipants).min(3),
  graphSeed: digest,
  keyAgreement: z.enum(KEY_AGREEMENTS),
  config: secAggConfigSchema,
  /** Largest normalised weight a worker may use (1 when weights are examples ÷ the per-worker cap). */
  maxWeight: z.number().positive().max(1e9),
  /** Model parameters d; the masked vector has d + 1 words (the last is the weight). */
  dimension: z.number().int().min(1).max(SECAGG_LIMITS.maxDimension),
});

/** A neighbour's signed advertisement, as forwarded in round 1. */
export const peerAdvertisementSchema = z.object({
  id: workerId,
  cPk: publicKey,
  sPk: publicKey,
  bCommit: digest,
  signature,
});

/** Round 1: the advertisements of this worker's neighbours that advertised in round 0. */
export const shareKeysRequestSchema = z.object({
  ...requestBase,
  stage: z.literal(SECAGG_STAGE.shareKeys),
  peers: z.array(peerAdvertisementSchema).max(SECAGG_LIMITS.maxNeighbours),
});

/** One dealer's shares for one holder: the ciphertext and the hashes of the two shares inside. */
const dealtShareFields = {
  ciphertext: bytes(29, SECAGG_LIMITS.maxShareCiphertextBytes),
  bShareHash: digest,
  sShareHash: digest,
};

/**
 * Round 2: the encrypted shares addressed to this worker by neighbours that answered round 1, each
 * with the hashes its dealer published, the proof of them in the dealer's signed tree
 * (core/secagg/dealt-tree.ts) and that signature, so the worker can check its shares.
 */
export const maskedInputRequestSchema = z.object({
  ...requestBase,
  stage: z.literal(SECAGG_STAGE.maskedInput),
  ciphertexts: z
    .array(z.object({ from: workerId, ...dealtShareFields, proof: z.array(digest).max(8) /* ⌈log2 254⌉ levels */, dealtSignature: signature }))
    .max(SECAGG_LIMITS.maxNeighbours),
});

/** Round 3: the set of workers whose masked input the coordinator holds (sorted). */
export const consistencyCheckRequestSchema = z.object({
  ...requestBase,
  stage: z.literal(SECAGG_STAGE.consistencyCheck),
  survivors: idList(SECAGG_LIMITS.maxParticipants),
});

/** Round 4: neighbours' signatures over the survivor set, and the neighbours the coordinator says dropped. */
export const unmaskRequestSchema = z.object({
  ...requestBase,
  stage: z.literal(SECAGG_STAGE.unmask),
  signatures: z.array(z.object({ id: workerId, signature })).max(SECAGG_LIMITS.maxNeighbours),
  dropped: idList(SECAGG_LIMITS.maxNeighbours),
});

export const secAggRequestSchema = z.discriminatedUnion('stage', [
  advertiseKeysRequestSchema,
  shareKeysRequestSchema,
  maskedInputRequestSchema,
  consistencyCheckRequestSchema,
  unmaskRequestSchema,
]);

// ---------------------------------------------------------------- worker → coordinator

/** Round 0: two public keys (c: share encryption, s: pairwise masks), a commitment to b, signed. */
export const advertiseKeysReplySchema = z.object({
  ...replyBase,
  stage: z.literal(SECAGG_STAGE.advertiseKeys),
  keyAgreement: z.enum(KEY_AGREEMENTS),
  cPk: publicKey,
  sPk: publicKey,
  /** SHA-256 commitment to the self-mask seed b, so a reconstructed b can be checked. */
  bCommit: digest,
  /** Identity signature over core/secagg/transcript.ts advertisementBytes(…). */
  signature,
});

/** Round 1: one ciphertext per neighbour, plus hashes of every share so a bad reveal is attributable. */
export const shareKeysReplySchema = z.object({
  ...replyBase,
  stage: z.literal(SECAGG_STAGE.shareKeys),
  shares: z.array(z.object({ to: workerId, ...dealtShareFields })).max(SECAGG_LIMITS.maxNeighbours),
  /** Identity signature over the root of the tree of `shares` (transcript.ts dealtRootBytes). */
  dealtSignature: signature,
  /** Hash of the b share the worker keeps for itself. */
  selfShareHash: digest,
});

/**
 * A holder's complaint that `dealer`'s shares do not match the hashes it published. `pairKey` (the
 * AES key of the pair) lets the coordinator open the ciphertext it routed and judge; the holder
 * sends it only when the dealer's signature over those hashes verifies, so a coordinator that
 * forges hashes cannot make holders disclose keys. See core/secagg/complaints.ts.
 */
export const dealerComplaintSchema = z.object({ dealer: workerId, pairKey: bytes(32, 32).optional() });

/** Round 2: y = quantized weighted input + masks, mod 2^32; d + 1 words. */
export const maskedInputReplySchema = z.object({
  ...replyBase,
  stage: z.literal(SECAGG_STAGE.maskedInput),
  masked: z.custom<Uint32Array>((v) => v instanceof Uint32Array, 'a Uint32Array (msgpack typed array)'),
  /** Dealers whose shares this worker found inconsistent (absent when none). */
  complaints: z.array(dealerComplaintSchema).max(SECAGG_LIMITS.maxNeighbours).optional(),
});

/** Round 3: the worker's identity signature over the survivor set it was told. */
export const consistencyCheckReplySchema = z.object({
  ...replyBase,
  stage: z.literal(SECAGG_STAGE.consistencyCheck),
  signature,
});

/**
 * Round 4: b shares of surviving neighbours (and of itself), s_sk shares of dropped ones; never both.
 * Under groupScoring also `crossSeeds`: the pairwise mask seed s_uv of every surviving neighbour in
 * another scoring group (never one in its own), so each group's sum can be unmasked
 * (core/secagg/group-reveal.ts).
 */
export const unmaskReplySchema = z.object({
  ...replyBase,
  stage: z.literal(SECAGG_STAGE.unmask),
  bShares: z.array(z.object({ of: workerId, share })).max(SECAGG_LIMITS.maxNeighbours + 1),
  sShares: z.array(z.object({ of: workerId, share })).max(SECAGG_LIMITS.maxNeighbours),
  crossSeeds: z.array(z.object({ peer: workerId, seed: digest })).max(SECAGG_LIMITS.maxNeighbours).optional(),
});

export const secAggReplySchema = z.discriminatedUnion('stage', [
  advertiseKeysReplySchema,
  shareKeysReplySchema,
  maskedInputReplySchema,
  consistencyCheckReplySchema,
  unmaskReplySchema,
]);

export type SecAggWireConfig = z.infer<typeof secAggConfigSchema>;
export type PeerAdvertisement = z.infer<typeof peerAdvertisementSchema>;
export type DealerComplaint = z.infer<typeof dealerComplaintSchema>;
export type AdvertiseKeysRequest = z.infer<typeof advertiseKeysRequestSchema>;
export type ShareKeysRequest = z.infer<typeof shareKeysRequestSchema>;
export type MaskedInputRequest = z.infer<typeof maskedInputRequestSchema>;
export type ConsistencyCheckRequest = z.infer<typeof consistencyCheckRequestSchema>;
export type UnmaskRequest = z.infer<typeof unmaskRequestSchema>;
export type SecAggRequest = z.infer<typeof secAggRequestSchema>;
export type AdvertiseKeysReply = z.infer<typeof advertiseKeysReplySchema>;
export type ShareKeysReply = z.infer<typeof shareKeysReplySchema>;
export type MaskedInputReply = z.infer<typeof maskedInputReplySchema>;
export type ConsistencyCheckReply = z.infer<typeof consistencyCheckReplySchema>;
export type UnmaskReply = z.infer<typeof unmaskReplySchema>;
export type SecAggReply = z.infer<typeof secAggReplySchema>;

/** The request type of one stage. */
export type SecAggRequestOf<S extends SecAggStage> = Extract<SecAggRequest, { stage: S }>;
/** The reply type of one stage. */
export type SecAggReplyOf<S extends SecAggStage> = Extract<SecAggReply, { stage: S }>;
