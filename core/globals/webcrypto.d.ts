/**
 * The part of WebCrypto that core uses (SecAgg+ key agreement, HKDF, AES-GCM/CTR, SHA-256, random
 * numbers), declared by hand: core/ is compiled without DOM and Node types. Node 20 has this as
 * globalThis.crypto but @types/node 20 does not declare it globally, so the Node wings' tsconfigs
 * include this file too; the browser wing gets the same names from lib.dom.
 */

type BufferSource = ArrayBufferView<ArrayBuffer> | ArrayBuffer;

interface Algorithm {
  name: string;
}
type AlgorithmIdentifier = Algorithm | string;
type HashAlgorithmIdentifier = AlgorithmIdentifier;
type KeyUsage = 'decrypt' | 'deriveBits' | 'deriveKey' | 'encrypt' | 'sign' | 'unwrapKey' | 'verify' | 'wrapKey';

interface KeyAlgorithm {
  name: string;
}
interface CryptoKey {
  readonly algorithm: KeyAlgorithm;
  readonly extractable: boolean;
  readonly type: 'private' | 'public' | 'secret';
  readonly usages: KeyUsage[];
}
interface CryptoKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}
interface JsonWebKey {
  kty?: string;
  crv?: string;
  d?: string;
  x?: string;
  y?: string;
  ext?: boolean;
  key_ops?: string[];
}

interface EcKeyImportParams extends Algorithm {
  namedCurve: string;
}
interface EcKeyGenParams extends Algorithm {
  namedCurve: string;
}
interface EcdhKeyDeriveParams extends Algorithm {
  public: CryptoKey;
}
interface HkdfParams extends Algorithm {
  hash: HashAlgorithmIdentifier;
  info: BufferSource;
  salt: BufferSource;
}
interface AesGcmParams extends Algorithm {
  iv: BufferSource;
  additionalData?: BufferSource;
  tagLength?: number;
}
interface AesCtrParams extends Algorithm {
  counter: BufferSource;
  length: number;
}

interface SubtleCrypto {
  generateKey(algorithm: AlgorithmIdentifier | EcKeyGenParams, extractable: boolean, keyUsages: readonly KeyUsage[]): Promise<CryptoKeyPair | CryptoKey>;
  exportKey(format: 'jwk', key: CryptoKey): Promise<JsonWebKey>;
  exportKey(format: 'pkcs8' | 'raw' | 'spki', key: CryptoKey): Promise<ArrayBuffer>;
  importKey(
    format: 'pkcs8' | 'raw' | 'spki',
    keyData: BufferSource,
    algorithm: AlgorithmIdentifier | EcKeyImportParams,
    extractable: boolean,
    keyUsages: readonly KeyUsage[],
  ): Promise<CryptoKey>;
  deriveBits(algorithm: AlgorithmIdentifier | EcdhKeyDeriveParams | HkdfParams, baseKey: CryptoKey, length: number): Promise<ArrayBuffer>;
  digest(algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>;
  encrypt(algorithm: AlgorithmIdentifier | AesGcmParams | AesCtrParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  decrypt(algorithm: AlgorithmIdentifier | AesGcmParams | AesCtrParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
}

interface Crypto {
  readonly subtle: SubtleCrypto;
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
}

declare var crypto: Crypto;
