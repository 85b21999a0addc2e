/**
 * The volunteer's identity, which is also their reward address. Two kinds:
 * - an injected EIP-1193 wallet (`window.ethereum`, e.g. a browser extension): it holds the key
 *   and signs with `personal_sign` (EIP-191), asking the volunteer each time;
 * - a key made in this tab, kept in IndexedDB for this site, exportable as a key file in the Node
 *   worker's format (one 0x-prefixed hex key), so `cohort worker --key FILE` can use it too.
 */
import { Wallet, getAddress, hexlify, toUtf8Bytes } from 'ethers';
import { loadKey, saveKey } from '../storage.js';

export interface PageSigner {
  readonly kind: 'injected' | 'tab';
  readonly address: string;
  /** EIP-191 personal_sign of UTF-8 text or raw bytes. */
  sign(message: string | Uint8Array): Promise<string>;
  /** The key file's text (tab keys only). */
  exportKey?: () => string;
}

interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export function injectedProvider(): Eip1193Provider | undefined {
  const candidate = (globalThis as { ethereum?: unknown }).ethereum;
  return candidate && typeof (candidate as Eip1193Provider).request === 'function' ? (candidate as Eip1193Provider) : undefined;
}

export async function injectedSigner(provider: Eip1193Provider): Promise<PageSigner> {
  const accounts = await provider.request({ method: 'eth_requestAccounts' });
  const first = Array.isArray(accounts) ? accounts[0] : undefined;
  if (typeof first !== 'string') throw new Error('the wallet returned no account');
  const address = getAddress(first);
  return {
    kind: 'injected',
    address,
    async sign(message) {
      const data = hexlify(typeof message === 'string' ? toUtf8Bytes(message) : message);
      const signature = await provider.request({ method: 'personal_sign', params: [data, address] });
      if (typeof signature !== 'string') throw new Error('the wallet returned no signature');
      return signature;
    },
  };
}

/** The tab's key: loaded from IndexedDB, or made and stored there on first use. */
export async function tabSigner(): Promise<PageSigner> {
  let stored = await loadKey();
  if (!stored) {
    const fresh = Wallet.createRandom();
    stored = { privateKey: fresh.privateKey, address: fresh.address, createdAt: Date.now() };
    await saveKey(stored);
  }
  const wallet = new Wallet(stored.privateKey);
  return {
    kind: 'tab',
    address: wallet.address,
    sign: (message) => wallet.signMessage(message),
    exportKey: () => `${wallet.privateKey}\n`,
  };
}

export async function chooseSigner(preference: 'auto' | 'tab'): Promise<PageSigner> {
  const provider = preference === 'auto' ? injectedProvider() : undefined;
  return provider ? injectedSigner(provider) : tabSigner();
}
