/**
 * The cryptographic primitives of SecAgg+, all through WebCrypto (globalThis.crypto), so the same
 * code runs in Node 20 and in browsers: key agreement (X25519, or P-256 ECDH where X25519 is
 * missing), HKDF-SHA256, AES-256-GCM for shares, SHA-256, and the mask PRG (AES-256-CTR).
 *
 * The PRG matters: Bonawitz et al. need PRG(seed) to be indistinguishable from random for a
 * computationally bounded server. We expand 256-bit seeds with AES-CTR; Flower's reference uses a
 * Mersenne Twister seeded with 32 bits, which a server can brute-force. Pure-JS ciphers would be
 * 15–30× slower than WebCrypto's native AES (DESIGN.md, "Crypto").
 */
import { CohortError } from '../protocol/errors.js';
import type { KeyAgreement } from '../protocol/secagg.js';

export type { KeyAgreement };

const subtle = (): SubtleCrypto => {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new CohortError('E_INTERNAL', 'WebCrypto (crypto.subtle) is not available in this runtime');
  return s;
};

// Uint32Array views share the platform's byte order with the PRG's byte stream. Every platform
// Cohort runs on (x86, ARM in little-endian mode, browsers) is little-endian; refuse the others
// rather than compute masks that differ between worker and coordinator.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new CohortError('E_INTERNAL', 'secure aggregation needs a little-endian platform');
}

let detected: Promise<KeyAgreement> | undefined;

/** The best key agreement this runtime offers: X25519 where WebCrypto has it, else P-256. Detected once. */
export function detectKeyAgreement(): Promise<KeyAgreement> {
  detected ??= subtle()
    .generateKey({ name: 'X25519' }, false, ['deriveBits'])
    .then(
      () => 'X25519' as const,
      () => 'P-256' as const,
    );
  return detected;
}

/** True if this runtime can use `alg`. */
export async function supportsKeyAgreement(alg: KeyAgreement): Promise<boolean> {
  return alg === 'P-256' || (await detectKeyAgreement()) === 'X25519';
}

function algorithmOf(alg: KeyAgreement): AlgorithmIdentifier | EcKeyImportParams {
  return alg === 'X25519' ? { name: 'X25519' } : { name: 'ECDH', namedCurve: 'P-256' };
}

/** Raw public key length: 32 bytes for X25519, 65 (uncompressed point) for P-256. */
export function publicKeyLength(alg: KeyAgreement): number {
  return alg === 'X25519' ? 32 : 65;
}

export interface AgreementKeyPair {
  readonly algorithm: KeyAgreement;
  readonly privateKey: CryptoKey;
  /** Raw public key, as advertised. */
  readonly publicRaw: Uint8Array;
}

/** A fresh key pair. `extractable` only for the mask key s, whose private key is secret-shared. */
export async function generateAgreementKeyPair(alg: KeyAgreement, extractable: boolean): Promise<AgreementKeyPair> {
  const pair = (await subtle().generateKey(algorithmOf(alg), extractable, ['deriveBits'])) as CryptoKeyPair;
  const publicRaw = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { algorithm: alg, privateKey: pair.privateKey, publicRaw };
}

/**
 * The 32-byte private scalar of an extractable key (JWK `d`). This, not PKCS#8, is what gets
 * secret-shared: PKCS#8 exports differ in length between runtimes (some include the public point),
 * while the scalar is the same everywhere, so shares from a browser and from Node fit together.
 */
export async function exportPrivateScalar(key: CryptoKey): Promise<Uint8Array> {
  const jwk = await subtle().exportKey('jwk', key);
  if (typeof jwk.d !== 'string') throw new CohortError('E_INTERNAL', 'private key export has no scalar');
  return fromBase64Url(jwk.d);
}

// Minimal DER PKCS#8 headers for a bare 32-byte scalar: RFC 8410 (X25519) and RFC 5915 inside
// RFC 5208 without the optional public key (P-256); the runtime recomputes the public point.
const PKCS8_PREFIX: Record<KeyAgreement, Uint8Array> = {
  X25519: hexBytes('302e020100300506032b656e04220420'),
  'P-256': hexBytes('3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420'),
};

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
}

/** Import a private scalar (extractable, so its public half can be checked with privateKeyMatches). */
export async function importPrivateScalar(alg: KeyAgreement, scalar: Uint8Array): Promise<CryptoKey> {
  if (scalar.byteLength !== 32) throw new CohortError('E_SECAGG_INVALID', `a ${alg} private scalar is 32 bytes, got ${scalar.byteLength}`);
  const prefix = PKCS8_PREFIX[alg];
  const pkcs8 = new Uint8Array(prefix.byteLength + 32);
  pkcs8.set(prefix);
  pkcs8.set(scalar, prefix.byteLength);
  try {
    return await subtle().importKey('pkcs8', pkcs8 as BufferSource, algorithmOf(alg), true, ['deriveBits']);
  } catch (cause) {
    throw new CohortError('E_SECAGG_INVALID', `reconstructed ${alg} private key does not parse`, { cause });
  } finally {
    pkcs8.fill(0);
  }
}

export async function importPublicKey(alg: KeyAgreement, raw: Uint8Array): Promise<CryptoKey> {
  if (raw.byteLength !== publicKeyLength(alg) || (alg === 'P-256' && raw[0] !== 4)) {
    throw new CohortError('E_SECAGG_INVALID', `public key is not a raw ${alg} key`);
  }
  try {
    return await subtle().importKey('raw', raw as BufferSource, algorithmOf(alg), true, []);
  } catch (cause) {
    throw new CohortError('E_SECAGG_INVALID', `public key is not a valid ${alg} point`, { cause });
  }
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * True if the (extractable) private key belongs to `publicRaw`: the JWK export of a private key
 * carries its public point (x, and y for P-256). Used to check a reconstructed s_sk.
 */
export async function privateKeyMatches(alg: KeyAgreement, privateKey: CryptoKey, publicRaw: Uint8Array): Promise<boolean> {
  const jwk = await subtle().exportKey('jwk', privateKey);
  if (typeof jwk.x !== 'string') return false;
  const x = fromBase64Url(jwk.x);
  if (alg === 'X25519') return bytesEqual(x, publicRaw);
  if (typeof jwk.y !== 'string') return false;
  const y = fromBase64Url(jwk.y);
  return publicRaw.byteLength === 65 && publicRaw[0] === 4 && bytesEqual(x, publicRaw.subarray(1, 33)) && bytesEqual(y, publicRaw.subarray(33));
}

/** The 32-byte Diffie–Hellman shared secret (X25519 output, or the P-256 x coordinate). */
export async function agree(alg: KeyAgreement, privateKey: CryptoKey, peerPublicRaw: Uint8Array): Promise<Uint8Array> {
  const peer = await importPublicKey(alg, peerPublicRaw);
  const name = alg === 'X25519' ? 'X25519' : 'ECDH';
  try {
    return new Uint8Array(await subtle().deriveBits({ name, public: peer } as EcdhKeyDeriveParams, privateKey, 256));
  } catch (cause) {
    // X25519 refuses low-order points (all-zero output); treat like any bad key.
    throw new CohortError('E_SECAGG_INVALID', `${alg} key agreement failed`, { cause });
  }
}

/** HKDF-SHA256 (RFC 5869): `length` bytes from input key material, bound to `info`. */
export async function hkdf(ikm: Uint8Array, info: Uint8Array, length = 32, salt: Uint8Array = new Uint8Array(32)): Promise<Uint8Array> {
  const key = await subtle().importKey('raw', ikm as BufferSource, 'HKDF', false, ['deriveBits']);
  const params: HkdfParams = { name: 'HKDF', hash: 'SHA-256', salt: salt as BufferSource, info: info as BufferSource };
  return new Uint8Array(await subtle().deriveBits(params, key, length * 8));
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', data as BufferSource));
}

const IV_BYTES = 12;

/** AES-256-GCM; output is IV ‖ ciphertext ‖ tag. `aad` is authenticated, not sent. */
export async function aesGcmEncrypt(keyBytes: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const key = await subtle().importKey('raw', keyBytes as BufferSource, 'AES-GCM', false, ['encrypt']);
  const iv = randomBytes(IV_BYTES);
  const ct = new Uint8Array(
    await subtle().encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource }, key, plaintext as BufferSource),
  );
  const out = new Uint8Array(IV_BYTES + ct.byteLength);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return out;
}

/** Inverse of aesGcmEncrypt; a wrong key, AAD or any flipped bit is E_SECAGG_INVALID. */
export async function aesGcmDecrypt(keyBytes: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  if (sealed.byteLength < IV_BYTES + 16) throw new CohortError('E_SECAGG_INVALID', 'ciphertext is too short');
  const key = await subtle().importKey('raw', keyBytes as BufferSource, 'AES-GCM', false, ['decrypt']);
  try {
    const iv = sealed.subarray(0, IV_BYTES);
    const body = sealed.subarray(IV_BYTES);
    const params: AesGcmParams = { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource };
    return new Uint8Array(await subtle().decrypt(params, key, body as BufferSource));
  } catch (cause) {
    throw new CohortError('E_SECAGG_INVALID', 'ciphertext failed authentication (tampered, or not for this pair and round)', { cause });
  }
}

/** Cryptographically random bytes (getRandomValues fills at most 65,536 bytes per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65_536) globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65_536)));
  return out;
}

/** Equality without an early exit on the first differing byte. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** PRG output is produced in chunks of this many bytes, so no single WebCrypto call gets huge. */
const CHUNK_BYTES = 8 * 1024 * 1024;
let zeros: Uint8Array | undefined;

/**
 * PRG(seed): `length` pseudo-random 32-bit words, AES-256-CTR keystream under the 256-bit seed
 * (the encryption of zeros, counter starting at 0). Each seed is used for one stream only, so the
 * fixed initial counter is safe. Deterministic: worker and coordinator get the same words.
 */
export async function expandMask(seed: Uint8Array, length: number): Promise<Uint32Array> {
  if (seed.byteLength !== 32) throw new CohortError('E_INTERNAL', 'mask seeds are 32 bytes');
  const key = await subtle().importKey('raw', seed as BufferSource, 'AES-CTR', false, ['encrypt']);
  const total = length * 4;
  zeros ??= new Uint8Array(CHUNK_BYTES);
  if (total <= CHUNK_BYTES) {
    const ks = await subtle().encrypt(ctrParams(0), key, zeros.subarray(0, total) as BufferSource);
    return new Uint32Array(ks);
  }
  const out = new Uint8Array(total);
  for (let off = 0; off < total; off += CHUNK_BYTES) {
    const n = Math.min(CHUNK_BYTES, total - off);
    // CHUNK_BYTES is a multiple of 16, so each chunk starts on a block boundary.
    const ks = await subtle().encrypt(ctrParams(off / 16), key, zeros.subarray(0, n) as BufferSource);
    out.set(new Uint8Array(ks), off);
  }
  return new Uint32Array(out.buffer);
}

function ctrParams(firstBlock: number): AesCtrParams {
  const counter = new Uint8Array(16);
  // Big-endian block index in the low 64 bits (the part AES-CTR increments).
  new DataView(counter.buffer).setBigUint64(8, BigInt(firstBlock));
  return { name: 'AES-CTR', counter: counter as BufferSource, length: 64 };
}

export interface SignedSeed {
  seed: Uint8Array;
  sign: 1 | -1;
}

/** Masks expanded per batch; two batches are alive at once (expanding one while adding the other). */
const BATCH = 4;

/**
 * acc += Σ sign · PRG(seed), word-wise mod 2^32. Pipelined: WebCrypto expands the next batch (off
 * the JS thread in Node) while this thread adds the current one, four masks per pass over acc.
 */
export async function addMasks(acc: Uint32Array, masks: readonly SignedSeed[]): Promise<void> {
  const expand = (from: number) => Promise.all(masks.slice(from, from + BATCH).map((m) => expandMask(m.seed, acc.length)));
  let next = masks.length > 0 ? expand(0) : undefined;
  for (let from = 0; next; from += BATCH) {
    const batch = await next;
    next = from + BATCH < masks.length ? expand(from + BATCH) : undefined;
    addFused(acc, batch, masks.slice(from, from + BATCH));
  }
}

/** One pass adding up to four signed masks. The double sum stays exact (< 2^35); the store wraps it mod 2^32. */
function addFused(acc: Uint32Array, m: readonly Uint32Array[], s: readonly SignedSeed[]): void {
  const a = m[0]!;
  const [b, c, d] = [m[1] ?? a, m[2] ?? a, m[3] ?? a];
  const [sa, sb, sc, sd] = [s[0]!.sign, s[1]?.sign ?? 0, s[2]?.sign ?? 0, s[3]?.sign ?? 0];
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + sa * a[i]! + sb * b[i]! + sc * c[i]! + sd * d[i]!;
}
