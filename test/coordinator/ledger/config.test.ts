// The run's ledger settings (zod) and where the keys come from: an environment variable or a 0600
// file, never a readable-by-others file nor a command-line literal.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keySourceFromFlag, ledgerConfigHash, loadLedgerKey, parseLedgerConfig, readKeyFile } from '../../../coordinator/ledger/ledger-config.js';

const KEY = `0x${'ab'.repeat(32)}`;
const LEDGER = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const base = { rpcUrl: 'http://127.0.0.1:8545', ledgerAddress: LEDGER, chainRunId: '3', budgetWei: '1000', rounds: 4 };
const dir = mkdtempSync(join(tmpdir(), 'cohort-ledger-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseLedgerConfig', () => {
  it('normalises addresses and amounts, and defaults the key to COHORT_LEDGER_KEY', () => {
    const config = parseLedgerConfig({ ...base, allowlist: [LEDGER], perAddressRewardCapWei: 500 });
    expect(config).toMatchObject({
      ledgerAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      chainRunId: 3n,
      budgetWei: 1000n,
      perAddressRewardCapWei: 500n,
      fromBlock: 0,
      key: { source: 'env', variable: 'COHORT_LEDGER_KEY' },
    });
    expect(config.allowlist).toEqual(['0x5FbDB2315678afecb367f032d93F642f64180aa3']);
  });

  it('refuses bad settings with the field\'s path', () => {
    const bad = (patch: Record<string, unknown>): unknown => {
      try {
        parseLedgerConfig({ ...base, ...patch });
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(bad({ ledgerAddress: '0x1234' })).toMatchObject({ code: 'E_CONFIG_INVALID', message: expect.stringContaining('ledger.ledgerAddress') });
    expect(bad({ rpcUrl: 'ftp://x' })).toMatchObject({ message: expect.stringContaining('ledger.rpcUrl') });
    expect(bad({ budgetWei: '0' })).toMatchObject({ message: expect.stringContaining('ledger.budgetWei') });
    expect(bad({ budgetWei: '1.5' })).toMatchObject({ message: expect.stringContaining('ledger.budgetWei') });
    expect(bad({ schedule: ['1', '2'] })).toMatchObject({ message: expect.stringContaining('2 entries for 4 rounds') });
    expect(bad({ schedule: ['500', '500', '1', '0'] })).toMatchObject({ message: expect.stringContaining('more than budgetWei') });
    expect(bad({ budgetWei: (2n ** 100n).toString(), rounds: 1 })).toMatchObject({ message: expect.stringContaining('2^96-1') });
    expect(bad({ key: { source: 'argv', value: KEY } })).toMatchObject({ code: 'E_CONFIG_INVALID' });
  });

  it('hashes the reward settings canonically (allowlist order and case do not matter)', () => {
    const one = parseLedgerConfig({ ...base, allowlist: [LEDGER, '0x1111111111111111111111111111111111111111'] });
    const two = parseLedgerConfig({ ...base, allowlist: ['0x1111111111111111111111111111111111111111', LEDGER.toUpperCase().replace('0X', '0x')] });
    expect(ledgerConfigHash(one)).toBe(ledgerConfigHash(two));
    expect(ledgerConfigHash(one)).not.toBe(ledgerConfigHash({ ...one, rounds: 5 }));
  });
});

describe('key loading', () => {
  it('reads the key from an environment variable', () => {
    expect(loadLedgerKey({ source: 'env', variable: 'K' }, { K: KEY.slice(2) })).toBe(KEY);
    expect(() => loadLedgerKey({ source: 'env', variable: 'K' }, {})).toThrow(expect.objectContaining({ code: 'E_KEY_FILE' }));
    expect(() => loadLedgerKey({ source: 'env', variable: 'K' }, { K: 'nope' })).toThrow(expect.objectContaining({ code: 'E_KEY_FILE' }));
  });

  it('reads a 0600 key file and refuses one the group or others can read', () => {
    const path = join(dir, 'coordinator.key');
    writeFileSync(path, `${KEY}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    expect(loadLedgerKey({ source: 'file', path })).toBe(KEY);
    chmodSync(path, 0o640);
    expect(() => readKeyFile(path)).toThrow(expect.objectContaining({ code: 'E_KEY_FILE', message: expect.stringContaining('chmod 600') }));
    chmodSync(path, 0o604);
    expect(() => readKeyFile(path)).toThrow(expect.objectContaining({ code: 'E_KEY_FILE' }));
    expect(() => readKeyFile(join(dir, 'missing.key'))).toThrow(expect.objectContaining({ code: 'E_KEY_FILE' }));
  });

  it('refuses a key given on the command line, and falls back to the variable', () => {
    expect(() => keySourceFromFlag(KEY, 'COHORT_KEY', 'key-file', {})).toThrow(expect.objectContaining({ code: 'E_CLI_USAGE' }));
    expect(keySourceFromFlag('a.key', 'COHORT_KEY', 'key-file', {})).toEqual({ source: 'file', path: 'a.key' });
    expect(keySourceFromFlag(undefined, 'COHORT_KEY', 'key-file', { COHORT_KEY: KEY })).toEqual({ source: 'env', variable: 'COHORT_KEY' });
    expect(keySourceFromFlag(undefined, 'COHORT_KEY', 'key-file', {})).toBeUndefined();
  });
});
