/**
 * `cohort ledger …` (the researcher's chain work) and `cohort rewards` (a worker's earnings and
 * claim), on any EVM network. Keys come from an environment variable or a 0600 file, never from
 * the command line. Amounts are printed in wei (the token's base unit) and, with --json, as
 * decimal strings.
 */
import { ZeroAddress, formatEther, type JsonRpcProvider, type NonceManager } from 'ethers';
import { CohortError } from '../core/protocol/errors.js';
import { intFlag, parseFlags, stringFlag, type FlagSpec, type FlagValues } from '../coordinator/cli/flags.js';
import { USER_KEY_ENV, keySourceFromFlag, loadLedgerKey, type KeySource } from '../coordinator/ledger/ledger-config.js';
import { parseAmount } from '../coordinator/ledger/ledger-flags.js';
import { deployLedger } from '../contracts/node/deploy.js';
import {
  claim, connectChain, connectLedger, createRun, endRun, fundRun, paidOf, runCount, runStatus, walletSigner, withdraw, type RunStatus,
} from '../contracts/ledger-client.js';
import { proofFromChain } from '../contracts/ledger-events.js';
import { normalizeAddress } from '../contracts/merkle.js';
import { verifyCommand } from './ledger-verify.js';

export const LEDGER_HELP = `cohort ledger COMMAND --rpc-url URL [options]   the researcher's chain work, on any EVM network

Commands:
  deploy                          deploy a ContributionLedger; prints its address and block
  create-run --coordinator ADDR   create a run that ADDR (the coordinator's key) may record into
             [--token ADDR]       pay in this ERC-20 instead of ETH
             [--challenge-window SECONDS]  each new root is claimable only after SECONDS,
                                  open to fraud proofs meanwhile (default 0: at once; 3600 is sensible)
  fund --run N --amount AMOUNT    add AMOUNT to run N (ERC-20 runs approve the ledger first)
  status [--run N]                a run's funds and rounds (without --run: how many runs exist)
  verify --run N [--store PATH]   rebuild every recorded root of run N from the chain's events and,
                                  with the coordinator's run store, every recorded list from its
                                  contributions under the run's rule; prints ok or the first round
                                  that does not match (exit 1); needs no key
  withdraw --run N [--end]        send the researcher what run N never allocated; the run must
                                  have ended (--end ends it first: no more rounds, claims stay open)

Options:
  --rpc-url URL       the chain's JSON-RPC endpoint (required)
  --ledger ADDRESS    the ContributionLedger (required except for deploy)
  --run N             the run's id in the ledger (createRun's result)
  --amount AMOUNT     an integer in wei (the token's base unit), or ETH with a suffix: 1.5eth
  --key-file FILE     the researcher's private key, in a file of mode 0600
                      (default: the ${USER_KEY_ENV} environment variable; never a command-line literal)
  --json              print one JSON object on stdout`;

export const REWARDS_HELP = `cohort rewards --rpc-url URL --ledger ADDRESS --run N --key FILE [--claim]

Shows what this key's address has earned in run N, what the ledger has paid it, and what it may
claim; with --claim, claims it (the key pays the gas; the reward goes to its own address).
The amount earned is rebuilt from the ledger's events and checked against the recorded root,
so it does not depend on trusting the coordinator.

  --rpc-url URL       the chain's JSON-RPC endpoint (required)
  --ledger ADDRESS    the ContributionLedger (required)
  --run N             the run's id in the ledger (required)
  --key FILE          the worker's key file (mode 0600; the one \`cohort worker --key\` uses)
                      (default: the ${USER_KEY_ENV} environment variable; never a command-line literal)
  --address ADDRESS   only show this address's rewards (no key needed; cannot --claim)
  --from-block N      first block to scan for the ledger's events (default 0)
  --claim             claim what is claimable
  --json              print one JSON object on stdout`;

export interface CommandIo {
  out(line: string): void;
}

const STDOUT: CommandIo = { out: (line) => void process.stdout.write(`${line}\n`) };

const COMMON: FlagSpec = {
  'rpc-url': { type: 'string' },
  ledger: { type: 'string' },
  'from-block': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const LEDGER_FLAGS: FlagSpec = {
  ...COMMON,
  run: { type: 'string' },
  amount: { type: 'string' },
  coordinator: { type: 'string' },
  token: { type: 'string' },
  'challenge-window': { type: 'string' },
  'key-file': { type: 'string' },
  end: { type: 'boolean' },
};

const SUBCOMMANDS = ['deploy', 'create-run', 'fund', 'status', 'withdraw'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

/** Every flag of a ledger subcommand, checked before anything touches the network. */
interface LedgerPlan {
  readonly sub: Subcommand;
  readonly rpcUrl: string;
  readonly ledger: string;
  readonly fromBlock: number;
  readonly runId: bigint | undefined;
  readonly key: KeySource | undefined;
  readonly values: FlagValues;
}

/** `cohort ledger SUBCOMMAND …`; returns the exit code. */
export async function ledgerCommand(argv: string[], io: CommandIo = STDOUT, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') return io.out(LEDGER_HELP), sub === undefined ? 2 : 0;
  if (sub === 'verify') return verifyCommand(rest, io);
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new CohortError('E_CLI_USAGE', `cohort ledger: unknown command '${sub}' (one of ${[...SUBCOMMANDS, 'verify'].join('|')}; see cohort ledger --help)`);
  }
  const values = parseFlags(`ledger ${sub}`, rest, LEDGER_FLAGS);
  if (values.help === true) return io.out(LEDGER_HELP), 0;
  const plan: LedgerPlan = {
    sub: sub as Subcommand,
    values,
    rpcUrl: required(values, 'rpc-url', `ledger ${sub}`),
    ledger: sub === 'deploy' ? '' : addressFlag(values, 'ledger', true),
    fromBlock: intFlag(values, 'from-block', 0, 0),
    runId: sub === 'deploy' || sub === 'create-run' ? undefined : sub === 'status' ? runFlag(values, false) : runFlag(values, true),
    key: sub === 'status' ? undefined : keySourceFromFlag(stringFlag(values, 'key-file'), USER_KEY_ENV, 'key-file', env),
  };
  if (sub !== 'status' && !plan.key) {
    throw new CohortError('E_CLI_USAGE', `cohort ledger ${sub}: needs the researcher's key: --key-file FILE (mode 0600) or ${USER_KEY_ENV}`);
  }
  if (sub === 'create-run') addressFlag(values, 'coordinator', true);
  if (sub === 'create-run') intFlag(values, 'challenge-window', 0, 0, 0xffffffff);
  if (sub === 'fund') parseAmount(required(values, 'amount', 'ledger fund')); // its shape now; ETH vs token once the run is read
  const privateKey = plan.key ? loadLedgerKey(plan.key, env) : undefined;

  const provider = await connectChain(plan.rpcUrl);
  try {
    const signer = privateKey === undefined ? undefined : walletSigner(privateKey, provider);
    print(io, values, await runLedger(plan, provider, signer));
    return 0;
  } finally {
    provider.destroy();
  }
}

async function runLedger(plan: LedgerPlan, provider: JsonRpcProvider, signer: NonceManager | undefined): Promise<Record<string, unknown>> {
  const { values } = plan;
  const chainId = Number((await provider.getNetwork()).chainId);
  const ledgerFields = { chainId, ledger: plan.ledger };
  if (plan.sub === 'status') {
    const reader = connectLedger(plan.ledger, provider, { fromBlock: plan.fromBlock });
    if (plan.runId === undefined) return { ...ledgerFields, runCount: await runCount(reader) };
    return { ...ledgerFields, ...statusJson(await runStatus(reader, plan.runId)) };
  }
  if (!signer) throw new CohortError('E_CLI_USAGE', `cohort ledger ${plan.sub}: needs a key`);
  if (plan.sub === 'deploy') {
    const { deployment } = await deployLedger(signer);
    return { chainId, ledger: deployment.address, block: deployment.blockNumber, txHash: deployment.txHash, gasUsed: deployment.gasUsed };
  }
  const ledger = connectLedger(plan.ledger, signer, { fromBlock: plan.fromBlock });
  if (plan.sub === 'create-run') {
    const coordinator = addressFlag(values, 'coordinator', true);
    const token = addressFlag(values, 'token', false) ?? ZeroAddress;
    const challengeWindowSeconds = intFlag(values, 'challenge-window', 0, 0, 0xffffffff);
    const res = await createRun(ledger, { coordinator, token, challengeWindowSeconds });
    return { ...ledgerFields, runId: res.runId, coordinator, token, challengeWindowSeconds, txHash: res.txHash };
  }
  const runId = plan.runId ?? 0n;
  if (plan.sub === 'fund') {
    const status = await runStatus(ledger, runId);
    const amount = parseAmount(required(values, 'amount', 'ledger fund'), status.token);
    const res = await fundRun(ledger, { runId, amount });
    return { ...ledgerFields, runId, token: status.token, credited: res.credited, funded: status.funded + res.credited, txHash: res.txHash };
  }
  // withdraw: only once the run has ended, which --end does first (deliberately explicit: it stops the coordinator recording).
  const status = await runStatus(ledger, runId);
  if (!status.ended) {
    if (values.end !== true) {
      throw new CohortError('E_CLI_USAGE', `run ${runId} has not ended; pass --end to end it first (no more rounds can be recorded; claims stay open)`);
    }
    await endRun(ledger, { runId });
  }
  const res = await withdraw(ledger, { runId });
  return { ...ledgerFields, withdrawn: res.amount, txHash: res.txHash, ...statusJson(await runStatus(ledger, runId)) };
}

/** `cohort rewards …`; returns the exit code. */
export async function rewardsCommand(argv: string[], io: CommandIo = STDOUT, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const values = parseFlags('rewards', argv, { ...COMMON, run: { type: 'string' }, key: { type: 'string' }, address: { type: 'string' }, claim: { type: 'boolean' } });
  if (values.help === true) return io.out(REWARDS_HELP), 0;
  const rpcUrl = required(values, 'rpc-url', 'rewards');
  const address = addressFlag(values, 'ledger', true);
  const runId = runFlag(values, true);
  const watch = addressFlag(values, 'address', false);
  const source = keySourceFromFlag(stringFlag(values, 'key'), USER_KEY_ENV, 'key', env);
  if (watch && values.claim === true) throw new CohortError('E_CLI_USAGE', '--claim needs the key (--key FILE), not --address');
  if (!watch && !source) throw new CohortError('E_CLI_USAGE', `cohort rewards: --key FILE (or ${USER_KEY_ENV}) is required, or --address ADDRESS to only look`);

  const provider = await connectChain(rpcUrl);
  try {
    const runner = watch ? provider : walletSigner(loadLedgerKey(source ?? { source: 'env', variable: USER_KEY_ENV }, env), provider);
    const account = watch || (await (runner as ReturnType<typeof walletSigner>).getAddress());
    const ledger = connectLedger(address, runner, { fromBlock: intFlag(values, 'from-block', 0, 0) });
    const status = await runStatus(ledger, runId);
    const proof = await proofFromChain(ledger, runId, account).catch((err: unknown) => {
      if (err instanceof CohortError && err.code === 'E_LEDGER_NOT_IN_TREE') return undefined;
      throw err;
    });
    const earned = proof?.cumulativeAmount ?? 0n;
    const claimed = await paidOf(ledger, runId, account);
    const result: Record<string, unknown> = { account, runId, token: status.token, earned, claimed, claimable: earned > claimed ? earned - claimed : 0n };
    if (values.claim === true) {
      if (proof && earned > claimed) {
        const res = await claim(ledger, { runId, ...proof });
        Object.assign(result, { claimedNow: res.amount, txHash: res.txHash, claimed: claimed + res.amount, claimable: 0n });
      } else {
        result.claimedNow = 0n;
      }
    }
    print(io, values, result);
    return 0;
  } finally {
    provider.destroy();
  }
}

function print(io: CommandIo, values: FlagValues, result: Record<string, unknown>): void {
  if (values.json === true) {
    io.out(JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    return;
  }
  const eth = result.token === undefined || result.token === ZeroAddress;
  for (const [key, value] of Object.entries(result)) {
    const shown = typeof value === 'bigint' && isAmount(key) && eth ? `${value} wei (${formatEther(value)} ETH)` : String(value);
    io.out(`${key.padEnd(14)} ${shown}`);
  }
}

const AMOUNT_KEYS = new Set(['funded', 'allocated', 'claimed', 'withdrawn', 'unallocated', 'unclaimed', 'credited', 'earned', 'claimable', 'claimedNow']);
function isAmount(key: string): boolean {
  return AMOUNT_KEYS.has(key);
}

function statusJson(s: RunStatus): Record<string, unknown> {
  return {
    runId: s.runId, researcher: s.researcher, coordinator: s.coordinator, token: s.token, ended: s.ended, roundsRecorded: s.roundsRecorded,
    nextRound: s.nextRound, root: s.root, pendingRoot: s.pendingRoot, claimableAt: s.claimableAt,
    challengeWindow: s.challengeWindow, frozen: s.frozen, funded: s.funded, allocated: s.allocated, claimed: s.claimed, withdrawn: s.withdrawn,
    unallocated: s.unallocated, unclaimed: s.unclaimed,
  };
}

function required(values: FlagValues, flag: string, command: string): string {
  const value = stringFlag(values, flag);
  if (value === undefined) throw new CohortError('E_CLI_USAGE', `cohort ${command}: --${flag} is required`);
  return value;
}

function addressFlag(values: FlagValues, flag: string, must: true): string;
function addressFlag(values: FlagValues, flag: string, must: false): string | undefined;
function addressFlag(values: FlagValues, flag: string, must: boolean): string | undefined {
  const raw = stringFlag(values, flag);
  if (raw === undefined) {
    if (must) throw new CohortError('E_CLI_USAGE', `--${flag} ADDRESS is required`);
    return undefined;
  }
  try {
    return normalizeAddress(raw);
  } catch {
    throw new CohortError('E_CLI_USAGE', `--${flag}: expected a 0x-prefixed 20-byte address, got '${raw}'`);
  }
}

function runFlag(values: FlagValues, must: true): bigint;
function runFlag(values: FlagValues, must: false): bigint | undefined;
function runFlag(values: FlagValues, must: boolean): bigint | undefined {
  const raw = values.run;
  if (raw === undefined) {
    if (must) throw new CohortError('E_CLI_USAGE', '--run N is required');
    return undefined;
  }
  if (typeof raw !== 'string' || !/^[1-9]\d*$/.test(raw)) throw new CohortError('E_CLI_USAGE', `--run: expected a positive integer, got '${String(raw)}'`);
  return BigInt(raw);
}
