/**
 * The ledger flags of `cohort serve` and `cohort demo`, and their translation to a LedgerConfig
 * (serve) or a real-network demo chain (demo). Without --rpc-url, serve records nothing and the
 * demo starts its own anvil.
 */
import { readFileSync } from 'node:fs';
import { ZeroAddress, getAddress, isAddress, parseEther } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';
import { intFlag, stringFlag, type FlagSpec, type FlagValues } from '../cli/flags.js';
import { LEDGER_KEY_ENV, keySourceFromFlag, loadLedgerKey, parseLedgerConfig, type LedgerConfig } from './ledger-config.js';
import type { DemoChainOptions } from './demo-chain.js';

export const LEDGER_FLAGS: FlagSpec = {
  'rpc-url': { type: 'string' },
  ledger: { type: 'string' },
  'ledger-run': { type: 'string' },
  'ledger-from-block': { type: 'string' },
  'ledger-key-file': { type: 'string' },
  budget: { type: 'string' },
  'contribution-cap': { type: 'string' },
  'reward-cap': { type: 'string' },
  allowlist: { type: 'string' },
};

export const LEDGER_FLAGS_HELP = `  --rpc-url URL            record rewards on this EVM chain (serve: required for rewards; demo: instead of its own anvil)
  --ledger ADDRESS         the ContributionLedger (serve: required with --rpc-url; demo: default deploys one)
  --ledger-run N           the ledger run this coordinator records into (serve; see cohort ledger create-run)
  --ledger-from-block N    the ledger's deployment block, where event scans start (default 0)
  --ledger-key-file FILE   the coordinator's key, in a file of mode 0600 (default: the ${LEDGER_KEY_ENV} variable)
  --budget AMOUNT          the run's total reward: wei, or ETH as 1.5eth (required with --rpc-url; demo on anvil: 1eth)
  --contribution-cap N     most declared work (examples × local epochs) credited to one worker per round
  --reward-cap AMOUNT      most one address can earn over the run: wei, or ETH as 0.1eth
  --allowlist FILE         only these addresses (one per line, # comments) may join and earn`;

/** Wei as an integer, or ETH as `1.5eth` (only for ETH: a token's decimals are its own). */
export function parseAmount(raw: string, token: string = ZeroAddress, flag = 'amount'): bigint {
  const text = raw.trim().toLowerCase();
  let amount: bigint | undefined;
  if (/^\d+$/.test(text)) amount = BigInt(text);
  const eth = /^(\d+(?:\.\d{1,18})?|\.\d{1,18})\s*eth$/.exec(text);
  if (eth?.[1] !== undefined) {
    if (token !== ZeroAddress) throw new CohortError('E_CLI_USAGE', `--${flag}: this run pays in token ${token}; give the amount in its base units`);
    amount = parseEther(eth[1]);
  }
  if (amount === undefined || amount <= 0n) throw new CohortError('E_CLI_USAGE', `--${flag}: expected a positive integer in wei, or ETH like 1.5eth, got '${raw}'`);
  return amount;
}

/** `cohort serve`: the ledger settings, or undefined without --rpc-url (no rewards). */
export function ledgerConfigFromFlags(values: FlagValues, run: { rounds: number }): LedgerConfig | undefined {
  const rpcUrl = stringFlag(values, 'rpc-url');
  if (rpcUrl === undefined) {
    const stray = ['ledger', 'ledger-run', 'budget', 'ledger-key-file'].find((f) => values[f] !== undefined);
    if (stray) throw new CohortError('E_CLI_USAGE', `--${stray} needs --rpc-url URL`);
    return undefined;
  }
  const need = (flag: string): string => {
    const value = stringFlag(values, flag);
    if (value === undefined) throw new CohortError('E_CLI_USAGE', `--rpc-url needs --${flag} too`);
    return value;
  };
  const key = keySourceFromFlag(stringFlag(values, 'ledger-key-file'), LEDGER_KEY_ENV, 'ledger-key-file');
  if (!key) throw new CohortError('E_CLI_USAGE', `--rpc-url needs the coordinator's key: --ledger-key-file FILE (mode 0600) or ${LEDGER_KEY_ENV}`);
  const rewardCap = stringFlag(values, 'reward-cap');
  return parseLedgerConfig({
    rpcUrl,
    ledgerAddress: need('ledger'),
    chainRunId: need('ledger-run'),
    fromBlock: intFlag(values, 'ledger-from-block', 0, 0),
    budgetWei: parseAmount(need('budget'), ZeroAddress, 'budget'),
    rounds: run.rounds,
    perWorkerContributionCap: intFlag(values, 'contribution-cap', undefined, 1),
    perAddressRewardCapWei: rewardCap === undefined ? undefined : parseAmount(rewardCap, ZeroAddress, 'reward-cap'),
    allowlist: allowlistFile(stringFlag(values, 'allowlist')),
    key,
  });
}

/** `cohort demo`: what startDemoChain needs besides `rounds` (a real network when --rpc-url is given). */
export function demoChainFromFlags(values: FlagValues): Omit<DemoChainOptions, 'rounds'> {
  const rpcUrl = stringFlag(values, 'rpc-url');
  const budget = stringFlag(values, 'budget');
  const rewardCap = stringFlag(values, 'reward-cap');
  if (values['ledger-run'] !== undefined) throw new CohortError('E_CLI_USAGE', '--ledger-run is for serve; the demo creates its own run');
  const common = {
    perWorkerContributionCap: intFlag(values, 'contribution-cap', undefined, 1),
    perAddressRewardCapWei: rewardCap === undefined ? undefined : parseAmount(rewardCap, ZeroAddress, 'reward-cap'),
    allowlist: allowlistFile(stringFlag(values, 'allowlist')),
  };
  if (rpcUrl === undefined) {
    if (values.ledger !== undefined) throw new CohortError('E_CLI_USAGE', '--ledger needs --rpc-url URL');
    return { ...common, budgetWei: budget === undefined ? undefined : parseAmount(budget, ZeroAddress, 'budget') };
  }
  // Real money: the budget is never implied.
  if (budget === undefined) throw new CohortError('E_CLI_USAGE', '--rpc-url needs --budget AMOUNT (what the demo run pays its workers)');
  const key = keySourceFromFlag(stringFlag(values, 'ledger-key-file'), LEDGER_KEY_ENV, 'ledger-key-file');
  if (!key) throw new CohortError('E_CLI_USAGE', `--rpc-url needs a key: --ledger-key-file FILE (mode 0600) or ${LEDGER_KEY_ENV}`);
  return {
    ...common,
    budgetWei: parseAmount(budget, ZeroAddress, 'budget'),
    network: {
      rpcUrl,
      privateKey: loadLedgerKey(key),
      ledgerAddress: addressOrUndefined(stringFlag(values, 'ledger')),
      fromBlock: intFlag(values, 'ledger-from-block', 0, 0),
    },
  };
}

function addressOrUndefined(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!isAddress(raw)) throw new CohortError('E_CLI_USAGE', `--ledger: expected a 0x-prefixed 20-byte address, got '${raw}'`);
  return getAddress(raw);
}

/** Addresses from a file, one per line; blank lines and # comments are skipped. */
export function allowlistFile(path: string | undefined): string[] | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CohortError('E_CONFIG_INVALID', `--allowlist: cannot read ${path}`, { cause });
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}
