/**
 * Wires the ledger into a coordinator: checks the chain run, binds it to the store run, and gives
 * back the engine's onRoundCommit hook, the allowlist check for sign-in and the outbox sender.
 *
 * @example
 *   const ledger = await attachLedger({ store, runId, config: ledgerConfig, log });
 *   const engine = new RunEngine({ ..., onRoundCommit: ledger.onRoundCommit });
 *   // at sign-in: ledger.checkAllowed(address)   (throws E_NOT_ALLOWED)
 *   // on shutdown, after the engine has stopped and before store.close(): await ledger.close();
 */
import type { JsonRpcProvider } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';
import { connectChain, connectLedger, runStatus, walletSigner, type Ledger, type RunStatus } from '../../contracts/ledger-client.js';
import type { RewardTree } from '../../contracts/merkle.js';
import type { RoundCommit } from '../engine/run-engine.js';
import type { LogFn } from '../log.js';
import type { RunStore } from '../store/run-store.js';
import { loadLedgerKey, rewardPolicyOf, type LedgerConfig } from './ledger-config.js';
import type { LedgerTables } from '../store/ledger-tables.js';
import { bindRun, enqueueRound, rewardTreeOf, storedBinding, type LedgerBinding } from './outbox.js';
import { allowlistOf, checkAllowed } from './rewards.js';
import { LedgerSender, type SenderOptions } from './sender.js';

export interface AttachLedgerOptions {
  readonly store: RunStore;
  /** The run store's run id. */
  readonly runId: string;
  readonly config: LedgerConfig;
  /** The coordinator's key; default: loaded from `config.key` (environment variable or 0600 file). */
  readonly privateKey?: string | undefined;
  readonly log?: LogFn | undefined;
  /** Retry tuning for the sender (tests shorten it). */
  readonly sender?: Pick<SenderOptions, 'initialBackoffMs' | 'maxBackoffMs' | 'idlePollMs'> | undefined;
}

export interface AttachedLedger {
  /**
   * Pass to RunEngine: writes the round's outbox row through the store, on its one connection,
   * so it joins the transaction that completes the round (a throw rolls the round back).
   */
  readonly onRoundCommit: (commit: RoundCommit) => void;
  /** For sign-in: throws E_NOT_ALLOWED when the run has an allowlist without `address`. */
  readonly checkAllowed: (address: string) => void;
  readonly sender: LedgerSender;
  /** cohort_ledger_outbox_pending. */
  readonly pendingCount: () => number;
  /** Waits until every enqueued round is on chain (true), or `timeoutMs` passes (false). */
  readonly drain: (timeoutMs: number) => Promise<boolean>;
  /** The coordinator's reward tree over every enqueued round (proofs for workers). */
  readonly rewardTree: () => RewardTree;
  readonly ledger: Ledger;
  readonly binding: LedgerBinding;
  readonly coordinatorAddress: string;
  /**
   * Waits up to `drainTimeoutMs` (default 15 000; less once a send fails) for the
   * outbox to go out, then stops the sender and the provider. Rows still pending stay in the store
   * and the next coordinator on it sends them, even for a run that has ended.
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

export async function attachLedger(options: AttachLedgerOptions): Promise<AttachedLedger> {
  const { store, runId, config } = options;
  const log: LogFn = options.log ?? (() => undefined);
  const tables = store.ledger;
  const privateKey = options.privateKey ?? loadLedgerKey(config.key);
  const previous = storedBinding(tables, runId);

  const { provider, ledger, coordinatorAddress, status, fromBlock } = await openChainRun(config, privateKey, previous, log);

  const { binding, differences } = bindRun(tables, runId, {
    chainId: Number((await provider.getNetwork()).chainId),
    ledgerAddress: ledger.address,
    chainRunId: config.chainRunId,
    fromBlock,
    policy: rewardPolicyOf(config),
    allowlist: config.allowlist,
  });
  if (differences.length > 0) {
    log('warn', `ledger: run ${runId} keeps the settings it started with; ignoring new ${differences.join(', ')}`);
  }
  const allowlist = allowlistOf(binding.allowlist);
  if (status && status.funded - status.allocated < binding.policy.budgetWei && store.lastCompletedRound(runId) === 0) {
    log('warn', `ledger: run ${binding.chainRunId} has ${status.funded - status.allocated} wei unallocated, less than the budget ${binding.policy.budgetWei}; later rounds will wait until it is funded`);
  }

  const earlierRunIds = await earlierRuns(tables, runId, binding, ledger, coordinatorAddress, log);
  const sender = new LedgerSender({ tables, runId, earlierRunIds, ledger, log, ...options.sender }).start();
  log('info', `ledger: run ${runId} pays through run ${binding.chainRunId} of ${ledger.address} (chain ${binding.chainId}) as ${coordinatorAddress}; ${sender.pendingCount()} rounds pending`);

  let closed: Promise<void> | undefined;
  return {
    onRoundCommit: (commit) => {
      enqueueRound(tables, { runId: commit.runId, round: commit.round, contributions: commit.contributions, weights: commit.weights, scoring: commit.scoring, binding });
      sender.notify();
    },
    checkAllowed: (address) => checkAllowed(allowlist, address),
    sender,
    pendingCount: () => sender.pendingCount(),
    drain: (timeoutMs) => sender.drain(timeoutMs),
    rewardTree: () => rewardTreeOf(tables, runId),
    ledger,
    binding,
    coordinatorAddress,
    close: (drainTimeoutMs = 15_000) => {
      closed ??= (async () => {
        // A run's last round is enqueued just before the run ends: give it a moment to go out,
        // but stop waiting once the chain fails (then the rows wait for the next start).
        if (drainTimeoutMs > 0) await sender.drain(drainTimeoutMs, { whileHealthy: true }).catch(() => false);
        const left = sender.pendingCount();
        if (left > 0) log('warn', `ledger: ${left} rounds still pending in the outbox; the next coordinator on this store sends them`);
        await sender.stop();
        provider.destroy();
      })();
      return closed;
    },
  };
}

interface ChainRun {
  provider: JsonRpcProvider;
  ledger: Ledger;
  coordinatorAddress: string;
  /** Undefined when a resumed run starts while the chain is not answering. */
  status: RunStatus | undefined;
  fromBlock: number;
}

/**
 * Connects to the chain and reads the contract run. A resumed run may start while the chain is
 * down: its binding (and chain id) is in the store, and the outbox is made for exactly that. A new
 * run must see its contract run first.
 */
async function openChainRun(config: LedgerConfig, privateKey: string, previous: LedgerBinding | undefined, log: LogFn): Promise<ChainRun> {
  let provider: JsonRpcProvider;
  try {
    provider = await connectChain(config.rpcUrl, previous ? { chainId: previous.chainId } : {});
  } catch (err) {
    throw new CohortError('E_CHAIN_UNAVAILABLE', `ledger: cannot reach ${config.rpcUrl}; the chain is needed to start a paid run`, { cause: err });
  }
  try {
    const signer = walletSigner(privateKey, provider);
    const coordinatorAddress = await signer.getAddress();
    const fromBlock = previous?.fromBlock ?? config.fromBlock;
    const ledger = connectLedger(previous?.ledgerAddress ?? config.ledgerAddress, signer, { fromBlock });
    let status: RunStatus | undefined;
    try {
      status = await runStatus(ledger, previous?.chainRunId ?? config.chainRunId);
    } catch (err) {
      if (!(previous && err instanceof CohortError && err.code === 'E_CHAIN_UNAVAILABLE')) throw err;
      log('warn', `ledger: ${config.rpcUrl} is not answering; rounds wait in the outbox until it does`);
    }
    if (status) checkRun(status, coordinatorAddress, config);
    return { provider, ledger, coordinatorAddress, status, fromBlock };
  } catch (err) {
    provider.destroy();
    throw err;
  }
}

/**
 * Earlier runs of this store whose rounds never reached the chain (a stop right after their last
 * round), when they pay through this ledger and this key may still record for them.
 */
async function earlierRuns(tables: LedgerTables, runId: string, binding: LedgerBinding, ledger: Ledger, coordinator: string, log: LogFn): Promise<string[]> {
  const out: string[] = [];
  for (const other of tables.runsWithPending(runId)) {
    const theirs = storedBinding(tables, other);
    if (!theirs || theirs.chainId !== binding.chainId || theirs.ledgerAddress.toLowerCase() !== binding.ledgerAddress.toLowerCase()) {
      log('warn', `ledger: run ${other} has rounds pending for another ledger or chain; start a coordinator for it to send them`);
      continue;
    }
    const status = await runStatus(ledger, theirs.chainRunId).catch(() => undefined);
    if (status && (status.ended || status.coordinator.toLowerCase() !== coordinator.toLowerCase())) {
      const why = status.ended ? 'has ended' : `names coordinator ${status.coordinator}, not this key`;
      log('warn', `ledger: run ${other} has rounds pending, but its ledger run ${theirs.chainRunId} ${why}`);
      continue;
    }
    out.push(other);
  }
  if (out.length > 0) log('info', `ledger: also sending the pending rounds of earlier runs ${out.join(', ')}`);
  return out;
}

/** Refuses a contract run this coordinator cannot record for, with a sentence that says why. */
function checkRun(status: RunStatus, coordinator: string, config: LedgerConfig): void {
  if (status.coordinator.toLowerCase() !== coordinator.toLowerCase()) {
    throw new CohortError(
      'E_CONFIG_INVALID',
      `ledger: run ${status.runId} of ${config.ledgerAddress} names coordinator ${status.coordinator}, but this key is ${coordinator}`,
    );
  }
  if (status.ended) throw new CohortError('E_CONFIG_INVALID', `ledger: run ${status.runId} of ${config.ledgerAddress} has ended; create a new run`);
  // A challenge rejected one of its roots: nothing can be recorded until the researcher's unfreezeRun.
  if (status.frozen) {
    throw new CohortError('E_LEDGER_RUN_FROZEN', `ledger: run ${status.runId} of ${config.ledgerAddress} is frozen by a challenge; its researcher must call unfreezeRun`);
  }
}
