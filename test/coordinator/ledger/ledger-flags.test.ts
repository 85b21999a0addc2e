// The ledger flags of serve and demo: amounts, required companions of --rpc-url, the key's source
// and the allowlist file.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEther } from 'ethers';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseFlags } from '../../../coordinator/cli/flags.js';
import { LEDGER_FLAGS, demoChainFromFlags, ledgerConfigFromFlags, parseAmount } from '../../../coordinator/ledger/ledger-flags.js';

const KEY = `0x${'cd'.repeat(32)}`;
const LEDGER = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const dir = mkdtempSync(join(tmpdir(), 'cohort-ledger-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.COHORT_LEDGER_KEY;
});
const flags = (...argv: string[]): ReturnType<typeof parseFlags> => parseFlags('serve', argv, LEDGER_FLAGS);
const error = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('parseAmount', () => {
  it('reads amounts as wei, or ETH with a suffix', () => {
    expect(parseAmount('1000')).toBe(1000n);
    expect(parseAmount('1.5eth')).toBe(parseEther('1.5'));
    expect(parseAmount('0.25 ETH')).toBe(parseEther('0.25'));
    expect(() => parseAmount('1.5')).toThrow(expect.objectContaining({ code: 'E_CLI_USAGE' }));
    expect(() => parseAmount('0')).toThrow(expect.objectContaining({ code: 'E_CLI_USAGE' }));
    expect(() => parseAmount('1eth', '0x1111111111111111111111111111111111111111')).toThrow(expect.objectContaining({ code: 'E_CLI_USAGE' }));
  });
});

describe('ledgerConfigFromFlags (serve)', () => {
  it('records nothing without --rpc-url, and refuses ledger flags without it', () => {
    expect(ledgerConfigFromFlags(flags(), { rounds: 5 })).toBeUndefined();
    expect(error(() => ledgerConfigFromFlags(flags('--ledger', LEDGER), { rounds: 5 }))).toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('--rpc-url') });
  });

  it('builds the run\'s ledger settings, the key from a 0600 file', () => {
    const keyFile = join(dir, 'coordinator.key');
    writeFileSync(keyFile, KEY, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    const allowlist = join(dir, 'allow.txt');
    writeFileSync(allowlist, `# lab machines\n${LEDGER.toLowerCase()}\n\n0x1111111111111111111111111111111111111111  # gpu-2\n`);
    const config = ledgerConfigFromFlags(
      flags('--rpc-url', 'https://rpc.example.org', '--ledger', LEDGER, '--ledger-run', '4', '--budget', '2eth', '--ledger-key-file', keyFile,
        '--contribution-cap', '60000', '--reward-cap', '0.5eth', '--allowlist', allowlist),
      { rounds: 5 },
    );
    expect(config).toMatchObject({
      rpcUrl: 'https://rpc.example.org', ledgerAddress: LEDGER, chainRunId: 4n, budgetWei: parseEther('2'), rounds: 5,
      perWorkerContributionCap: 60_000, perAddressRewardCapWei: parseEther('0.5'), key: { source: 'file', path: keyFile },
      allowlist: [LEDGER, '0x1111111111111111111111111111111111111111'],
    });
  });

  it('needs the ledger, the run, the budget and a key with --rpc-url', () => {
    const base = ['--rpc-url', 'http://127.0.0.1:8545', '--ledger', LEDGER, '--ledger-run', '1', '--budget', '100'];
    expect(error(() => ledgerConfigFromFlags(flags(...base), { rounds: 2 }))).toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('COHORT_LEDGER_KEY') });
    process.env.COHORT_LEDGER_KEY = KEY;
    expect(ledgerConfigFromFlags(flags(...base), { rounds: 2 })?.key).toEqual({ source: 'env', variable: 'COHORT_LEDGER_KEY' });
    expect(error(() => ledgerConfigFromFlags(flags(...base.slice(0, 6)), { rounds: 2 }))).toMatchObject({ message: expect.stringContaining('--budget') });
    expect(error(() => ledgerConfigFromFlags(flags(...base, '--ledger-key-file', KEY), { rounds: 2 }))).toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('never the key itself') });
  });
});

describe('demoChainFromFlags (demo)', () => {
  it('uses its own anvil by default, and a real network only with a budget and a key', () => {
    const local = demoChainFromFlags(flags('--budget', '0.5eth'));
    expect([local.budgetWei, local.network]).toEqual([parseEther('0.5'), undefined]);
    expect(error(() => demoChainFromFlags(flags('--rpc-url', 'http://127.0.0.1:8545')))).toMatchObject({ message: expect.stringContaining('--budget') });
    process.env.COHORT_LEDGER_KEY = KEY;
    expect(demoChainFromFlags(flags('--rpc-url', 'http://127.0.0.1:8545', '--budget', '1000'))).toMatchObject({
      budgetWei: 1000n,
      network: { rpcUrl: 'http://127.0.0.1:8545', privateKey: KEY, ledgerAddress: undefined },
    });
  });
});
