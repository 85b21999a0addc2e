import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CohortError } from '../../core/protocol/errors.js';
import { loadOrCreateKey } from '../../worker-node/key-file.js';

describe('worker key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-key-'));
  afterEach(() => rmSync(join(dir, 'k'), { force: true }));

  it('creates a missing key with mode 0600 and loads the same identity again', () => {
    const path = join(dir, 'k');
    const created = loadOrCreateKey(path);
    expect(created.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const loaded = loadOrCreateKey(path);
    expect(loaded.created).toBe(false);
    expect(loaded.wallet.address).toBe(created.wallet.address);
    expect(readFileSync(path, 'utf8').trim()).toBe(created.wallet.privateKey);
  });

  it('refuses a key file others can read, with E_KEY_FILE', () => {
    const path = join(dir, 'k');
    writeFileSync(path, `0x${'11'.repeat(32)}\n`, { mode: 0o644 });
    expect(() => loadOrCreateKey(path)).toThrowError(expect.objectContaining({ code: 'E_KEY_FILE' }) as CohortError);
  });

  it('refuses a file that holds no key, with E_KEY_FILE', () => {
    const path = join(dir, 'k');
    writeFileSync(path, 'not a key\n', { mode: 0o600 });
    expect(() => loadOrCreateKey(path)).toThrowError(/does not hold a 32-byte hex private key/);
  });
});
