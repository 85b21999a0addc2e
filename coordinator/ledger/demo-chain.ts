/**
 * The chain half of `cohort demo`: before the run, a funded ledger run for the coordinator to
 * record into; after it, every worker claims with its own key and the demo reports what the
 * ledger paid, read back from its Claimed events.
 *
 * By default it starts a local anvil, deploys the ledger with dev account 0 as the researcher and
 * names dev account 1 as the coordinator. Given `network` (an RPC URL and a key) it uses that
 * chain instead: the one key is researcher and coordinator, deploys a ledger unless one is named,
 * funds the run from its own balance and pays the workers' claim gas from it.
 *
 * @example
 *   const chain = await startDemoChain({ rounds: 5 });
 *   const ledger = await attachLedger({ store, runId, config: chain.config, privateKey: chain.coordinatorKey });
 *   // ... the run ...
 *   const summary = await finishDemoChain({ chain, ledger, workerKeys });   // stops anvil
 */
import { Wallet, ZeroAddress, computeAddress, parseEther, toBeHex, type JsonRpcProvider } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';
import { startAnvil, type AnvilChain } from '../../contracts/node/anvil.js';
import { deployLedger } from '../../contracts/node/deploy.js';
import { claim, connectChain, connectLedger, createRun, fundRun, runStatus, walletSigner } from '../../contracts/ledger-client.js';
import { auditRun, claimRecords } from '../../contracts/ledger-events.js';
import type { LogFn } from '../log.js';
import { ledgerConfigHash, parseLedgerConfig, type LedgerConfig } from './ledger-config.js';

export interface DemoChainOptions {
  readonly rounds: number;
  /** The run's reward, funded up front. Default 1 ETH. */
  readonly budgetWei?: bigint | undefined;
  readonly perWorkerContributionCap?: number | undefined;
  readonly perAddressRewardCapWei?: bigint | undefined;
  readonly allowlist?: readonly string[] | undefined;
  /** A real network instead of anvil; `privateKey` is researcher and coordinator. */
  readonly network?: { rpcUrl: string; privateKey: string; ledgerAddress?: string | undefined; fromBlock?: number | undefined } | undefined;
  /** ETH each worker gets for claim gas when it has less. Default 0.01 ETH on anvil, 0.0005 ETH elsewhere. */
  readonly gasAllowanceWei?: bigint | undefined;
  readonly log?: LogFn | undefined;
}

export interface DemoChain {
  readonly chainId: number;
  readonly rpcUrl: string;
  readonly ledgerAddress: string;
  readonly fromBlock: number;
  readonly chainRunId: bigint;
  readonly funded: bigint;
  /** Ready for attachLedger (its `key` names the default variable; pass `coordinatorKey` as privateKey). */
  readonly config: LedgerConfig;
  readonly coordinatorKey: string;
  readonly researcherKey: string;
  /** The local chain, when the demo started one. */
  readonly anvil: AnvilChain | undefined;
  readonly provider: JsonRpcProvider;
  readonly gasAllowanceWei: bigint;
  /** Stops anvil (if ours) and the provider. Idempotent. */
  stop(): Promise<void>;
}

/** The `chain` field of `cohort demo --json`. */
export interface DemoChainSummary {
  chainId: number;
  ledger: string;
  roundsRecorded: number;
  funded: string;
  allocated: string;
  /** Address → wei the ledger paid it, summed from its Claimed events. */
  claimed: Record<string, string>;
}

export async function startDemoChain(options: DemoChainOptions): Promise<DemoChain> {
  const log: LogFn = options.log ?? (() => undefined);
  const anvil = options.network ? undefined : await startAnvil();
  try {
    const rpcUrl = options.network?.rpcUrl ?? anvil?.rpcUrl ?? '';
    const researcherKey = options.network?.privateKey ?? anvil?.privateKeys[0] ?? '';
    const coordinatorKey = options.network?.privateKey ?? anvil?.privateKeys[1] ?? '';
    const provider = await connectChain(rpcUrl);
    const chainId = Number((await provider.getNetwork()).chainId);
    const researcher = walletSigner(researcherKey, provider);

    let ledgerAddress = options.network?.ledgerAddress;
    let fromBlock = options.network?.fromBlock ?? 0;
    if (ledgerAddress === undefined) {
      const { deployment } = await deployLedger(researcher);
      ledgerAddress = deployment.address;
      fromBlock = deployment.blockNumber;
      log('info', `ledger deployed at ${ledgerAddress} (block ${fromBlock}, chain ${chainId})`);
    }
    const ledger = connectLedger(ledgerAddress, researcher, { fromBlock });
    const budgetWei = options.budgetWei ?? parseEther('1');
    const settings = {
      budgetWei,
      rounds: options.rounds,
      perWorkerContributionCap: options.perWorkerContributionCap,
      perAddressRewardCapWei: options.perAddressRewardCapWei,
      allowlist: options.allowlist ? [...options.allowlist] : undefined,
    };
    const { runId } = await createRun(ledger, { coordinator: computeAddress(coordinatorKey), token: ZeroAddress, configHash: ledgerConfigHash(settings) });
    const { credited } = await fundRun(ledger, { runId, amount: budgetWei });
    log('info', `ledger run ${runId} funded with ${credited} wei`);

    const config = parseLedgerConfig({ rpcUrl, ledgerAddress, chainRunId: runId, fromBlock, ...settings });
    let stopped: Promise<void> | undefined;
    return {
      chainId,
      rpcUrl,
      ledgerAddress,
      fromBlock,
      chainRunId: runId,
      funded: credited,
      config,
      coordinatorKey,
      researcherKey,
      anvil,
      provider,
      gasAllowanceWei: options.gasAllowanceWei ?? (anvil ? parseEther('0.01') : parseEther('0.0005')),
      stop: () => {
        stopped ??= (async () => {
          provider.destroy();
          await anvil?.stop();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await anvil?.stop();
    throw err;
  }
}

export interface FinishDemoChainOptions {
  readonly chain: DemoChain;
  /** Private keys of the demo's workers (their key files' contents). */
  readonly workerKeys: readonly string[];
  /** The coordinator's ledger (AttachedLedger): its outbox must be on chain before anyone claims. */
  readonly ledger?: { drain(timeoutMs: number): Promise<boolean> } | undefined;
  /** Default 60 000 ms. */
  readonly drainTimeoutMs?: number | undefined;
  readonly log?: LogFn | undefined;
}

/**
 * Waits for the outbox to drain, has every worker with a reward claim it with its own key (proofs
 * rebuilt from the chain's events alone), reads back what was paid, and stops the chain.
 */
export async function finishDemoChain(options: FinishDemoChainOptions): Promise<DemoChainSummary> {
  const { chain } = options;
  const log: LogFn = options.log ?? (() => undefined);
  try {
    const timeoutMs = options.drainTimeoutMs ?? 60_000;
    if (options.ledger && !(await options.ledger.drain(timeoutMs))) {
      throw new CohortError('E_CHAIN_UNAVAILABLE', `the ledger outbox did not drain within ${timeoutMs} ms; rounds are still pending`);
    }
    const reader = connectLedger(chain.ledgerAddress, chain.provider, { fromBlock: chain.fromBlock });
    const audit = await auditRun(reader, chain.chainRunId);
    const before = await runStatus(reader, chain.chainRunId);
    if (!audit.ok || audit.tree.root !== before.root) {
      throw new CohortError('E_LEDGER_ROUND_CONFLICT', `run ${chain.chainRunId}: the recorded rounds do not rebuild the recorded root`, { details: audit.rounds });
    }

    const workers = options.workerKeys.map((key) => normalizeKey(key));
    const addresses = workers.map((key) => computeAddress(key));
    const owed = workers.filter((_, i) => audit.tree.amountOf(addresses[i] ?? '') > 0n);
    await fundGas(chain, owed.map((k) => computeAddress(k)));
    for (const key of owed) {
      const signer = walletSigner(key, chain.provider);
      const account = await signer.getAddress();
      const proof = audit.tree.proof(account);
      const paidSoFar = (await claimRecords(reader, chain.chainRunId, { account })).reduce((s, c) => s + c.amount, 0n);
      if (paidSoFar >= proof.cumulativeAmount) continue; // claimed already (a re-run of finish)
      const res = await claim(connectLedger(chain.ledgerAddress, signer, { fromBlock: chain.fromBlock }), { runId: chain.chainRunId, ...proof });
      log('info', `worker ${account} claimed ${res.amount} wei (gas ${res.gasUsed})`);
    }

    const status = await runStatus(reader, chain.chainRunId);
    const claimed: Record<string, string> = {};
    for (const address of addresses) claimed[address] = '0';
    const sums = new Map<string, bigint>();
    for (const c of await claimRecords(reader, chain.chainRunId)) sums.set(c.account, (sums.get(c.account) ?? 0n) + c.amount);
    for (const [account, amount] of sums) claimed[account] = amount.toString();
    return {
      chainId: chain.chainId,
      ledger: chain.ledgerAddress,
      roundsRecorded: status.roundsRecorded,
      funded: status.funded.toString(),
      allocated: status.allocated.toString(),
      claimed,
    };
  } finally {
    await chain.stop();
  }
}

/** Tops up each address to the gas allowance: anvil_setBalance on our anvil, a transfer elsewhere. */
async function fundGas(chain: DemoChain, addresses: readonly string[]): Promise<void> {
  const researcher = chain.anvil ? undefined : walletSigner(chain.researcherKey, chain.provider);
  for (const address of addresses) {
    const balance = await chain.provider.getBalance(address);
    if (balance >= chain.gasAllowanceWei) continue;
    if (!researcher) {
      await chain.provider.send('anvil_setBalance', [address, toBeHex(chain.gasAllowanceWei)]);
    } else {
      const tx = await researcher.sendTransaction({ to: address, value: chain.gasAllowanceWei - balance });
      await tx.wait(1, 120_000);
    }
  }
}

function normalizeKey(key: string): string {
  const text = key.trim();
  try {
    return new Wallet(text.startsWith('0x') ? text : `0x${text}`).privateKey;
  } catch (cause) {
    throw new CohortError('E_KEY_FILE', 'a demo worker key is not a 32-byte hex private key', { cause });
  }
}
