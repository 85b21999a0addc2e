/**
 * A worker's Ethereum identity key, kept in a file readable only by its owner (mode 0600).
 * The file holds one 0x-prefixed hex private key. A missing file is created with a fresh key.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Wallet } from 'ethers';
import { CohortError } from '../core/protocol/errors.js';

export function loadOrCreateKey(path: string): { wallet: Wallet; created: boolean } {
  if (!existsSync(path)) {
    const wallet = Wallet.createRandom();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${wallet.privateKey}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600); // the umask may have narrowed it; make it exactly 0600
    return { wallet: new Wallet(wallet.privateKey), created: true };
  }
  const mode = statSync(path).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CohortError('E_KEY_FILE', `${path} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  const text = readFileSync(path, 'utf8').trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(text)) {
    throw new CohortError('E_KEY_FILE', `${path} does not hold a 32-byte hex private key`);
  }
  return { wallet: new Wallet(text.startsWith('0x') ? text : `0x${text}`), created: false };
}
