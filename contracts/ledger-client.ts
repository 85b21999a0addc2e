/**
 * Typed operations on a deployed ContributionLedger, over ethers v6: plain functions
 * `(ledger, params)`, runtime-neutral (the browser worker claims with it too). Deploying, which
 * reads the build artifact from disk, is in deploy.ts; reading events back is in ledger-events.ts.
 * Failures are CohortErrors: E_LEDGER_REVERTED (with the custom error name in `details.error`,
 * see revertName), E_CHAIN_UNAVAILABLE, E_LEDGER_ROUND_CONFLICT, E_LEDGER_RUN_FROZEN (recording into a
 * run a challenge froze) and E_LEDGER_CHALLENGE_INVALID (a fraud proof the contract refused).
 *
 * Each operation X exports, as viem's actions do, `XParameters` (its argument), `XReturnType` (what
 * it resolves to) and `XErrorType` (the CohortError codes it can reject with), so callers can name
 * them and a change shows up at every use.
 *
 * @example
 *   const signer = walletSigner(privateKey, await connectChain(rpcUrl));
 *   const ledger = connectLedger(address, signer, { fromBlock: deployBlock });
 *   const { runId } = await createRun(ledger, { coordinator, token: ZeroAddress });
 *   await fundRun(ledger, { runId, amount: parseEther('1') });
 */
import {
  Contract, JsonRpcProvider, Network, NonceManager, Wallet, ZeroAddress, ZeroHash,
  type ContractRunner, type Provider,
} from 'ethers';
import { CohortError, type ErrorCode } from '../core/protocol/errors.js';
import { ERC20_ABI } from './erc20-abi.js';
import { LEDGER_ABI } from './ledger-abi.js';
import { roundRecords } from './ledger-events.js';
import { call, findEvent, revertName, send, signerOf, txResult, type Ledger, type TxResult } from './ledger-tx.js';
import { packRound, sumRound, type RewardEntry, type RewardProof } from './merkle.js';

export { revertName, type Ledger, type OnChain, type TxResult } from './ledger-tx.js';

/** A CohortError whose code is one of `C`. */
export type LedgerErrorType<C extends ErrorCode> = CohortError & { readonly code: C };
/** A transaction: reverted (the contract's error name in `details.error`) or the chain did not answer. */
export type TxErrorType = LedgerErrorType<'E_LEDGER_REVERTED' | 'E_CHAIN_UNAVAILABLE'>;
/** A view call: the same two ways to fail. */
export type CallErrorType = TxErrorType;

export interface RunStatus {
  readonly runId: bigint;
  readonly researcher: string;
  readonly coordinator: string;
  /** ZeroAddress for ETH. */
  readonly token: string;
  readonly ended: boolean;
  /** Lowest round number that can still be recorded. */
  readonly nextRound: number;
  readonly roundsRecorded: number;
  /** The root claims are checked against now; ZeroHash before the first claimable round. */
  readonly root: string;
  /** The root waiting out its challenge window; ZeroHash when none. */
  readonly pendingRoot: string;
  /** Unix seconds at which `pendingRoot` becomes claimable; 0 when none is pending. */
  readonly claimableAt: number;
  /** Seconds each new root stays pending; 0: claimable at once. */
  readonly challengeWindow: number;
  /** A challenge rejected a root: no recording until the researcher's unfreezeRun. */
  readonly frozen: boolean;
  readonly funded: bigint;
  readonly allocated: bigint;
  readonly claimed: bigint;
  readonly withdrawn: bigint;
  /** funded − allocated − withdrawn: what the researcher can withdraw once the run has ended. */
  readonly unallocated: bigint;
  /** allocated − claimed: owed to workers who have not claimed yet. */
  readonly unclaimed: bigint;
}

/**
 * A provider that never probes the network again (a chain outage then fails calls fast instead of
 * retrying forever in the background). Asks eth_chainId once unless `chainId` is given.
 */
export type ConnectChainParameters = { chainId?: number; pollingIntervalMs?: number };
export type ConnectChainReturnType = JsonRpcProvider;
export type ConnectChainErrorType = LedgerErrorType<'E_CHAIN_UNAVAILABLE'>;

export async function connectChain(rpcUrl: string, options: ConnectChainParameters = {}): Promise<ConnectChainReturnType> {
  let chainId = options.chainId;
  if (chainId === undefined) {
    const probe = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
    try {
      chainId = Number(BigInt(await probe.send('eth_chainId', [])));
    } catch (err) {
      throw new CohortError('E_CHAIN_UNAVAILABLE', `cannot reach ${rpcUrl}`, { cause: err });
    } finally {
      probe.destroy();
    }
  }
  // A local chain mines on every transaction: poll often so that waits are short.
  const local = chainId === 31337 || chainId === 1337;
  const pollingInterval = options.pollingIntervalMs ?? (local ? 50 : 2_000);
  // cacheTimeout -1: ethers otherwise answers an identical request made within 250 ms from cache,
  // so a balance read or a gas estimate right after a transaction would see the state before it.
  return new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: true, pollingInterval, cacheTimeout: -1 });
}

/** A wallet wrapped in a NonceManager, so back-to-back transactions get consecutive nonces. */
export type WalletSignerParameters = [privateKey: string, provider: Provider];
export type WalletSignerReturnType = NonceManager;

export function walletSigner(...[privateKey, provider]: WalletSignerParameters): WalletSignerReturnType {
  return new NonceManager(new Wallet(privateKey, provider));
}

export type ConnectLedgerParameters = { fromBlock?: number; receiptTimeoutMs?: number };
export type ConnectLedgerReturnType = Ledger;

export function connectLedger(address: string, runner: ContractRunner, options: ConnectLedgerParameters = {}): ConnectLedgerReturnType {
  return {
    address,
    contract: new Contract(address, LEDGER_ABI, runner),
    runner,
    fromBlock: options.fromBlock ?? 0,
    receiptTimeoutMs: options.receiptTimeoutMs ?? 120_000,
  };
}

/**
 * Creates a run owned by the signer; `token` ZeroAddress (default) pays in ETH. `challengeWindowSeconds`
 * (default 0: none) is how long each new root stays pending and open to challengeRoot.
 */
export type CreateRunParameters = { coordinator: string; token?: string; configHash?: string; challengeWindowSeconds?: number };
export type CreateRunReturnType = TxResult & { runId: bigint };
/** Reverts: ZeroAddress; E_LEDGER_INPUT for a window outside uint32. */
export type CreateRunErrorType = TxErrorType | LedgerErrorType<'E_LEDGER_INPUT'>;

export async function createRun(ledger: Ledger, params: CreateRunParameters): Promise<CreateRunReturnType> {
  const window = params.challengeWindowSeconds ?? 0;
  if (!Number.isInteger(window) || window < 0 || window > 0xffffffff) {
    throw new CohortError('E_LEDGER_INPUT', `challenge window ${window} s is not a whole number of seconds in 0..2^32-1`);
  }
  const receipt = await send(ledger, 'createRun', [params.coordinator, params.token ?? ZeroAddress, params.configHash ?? ZeroHash, window]);
  const event = findEvent(ledger, receipt, 'RunCreated');
  return { ...txResult(receipt), runId: event.args[0] as bigint };
}

/**
 * Funds a run: ETH as value, or an ERC-20 pulled from the signer (approving the ledger first if the
 * allowance is short). Returns the amount credited (less than `amount` for fee-on-transfer tokens).
 */
export type FundRunParameters = { runId: bigint; amount: bigint };
export type FundRunReturnType = TxResult & { credited: bigint };
/** Reverts: RunNotFound, RunAlreadyEnded, ZeroAmount, WrongValue, SafeERC20FailedOperation; E_LEDGER_INPUT without a signer. */
export type FundRunErrorType = TxErrorType | LedgerErrorType<'E_LEDGER_INPUT'>;

export async function fundRun(ledger: Ledger, params: FundRunParameters): Promise<FundRunReturnType> {
  const { token } = await runStatus(ledger, params.runId);
  let value = 0n;
  if (token === ZeroAddress) {
    value = params.amount;
  } else {
    const erc20 = new Contract(token, ERC20_ABI, ledger.runner);
    const owner = await signerOf(ledger).getAddress();
    const allowance = (await erc20.getFunction('allowance')(owner, ledger.address)) as bigint;
    if (allowance < params.amount) await send({ ...ledger, contract: erc20 }, 'approve', [ledger.address, params.amount]);
  }
  const receipt = await send(ledger, 'fund', [params.runId, params.amount], { value });
  const event = findEvent(ledger, receipt, 'RunFunded');
  return { ...txResult(receipt), credited: event.args[2] as bigint };
}

export type RecordOutcome = TxResult & { status: 'recorded' | 'already-recorded'; packedBytes: number };
export type RecordRoundParameters = {
  runId: bigint;
  round: number;
  modelHash?: string;
  entries: readonly RewardEntry[];
  cumulativeRoot: string;
  /** A quality-paid round's published scoring (RoundScored): the group assignment's root and the encoded record. */
  scoring?: { assignmentRoot: string; record: string } | undefined;
};
export type RecordRoundReturnType = RecordOutcome;
/**
 * Reverts: RunNotFound, NotCoordinator, RunAlreadyEnded, BadPacking, AllocationExceedsFunds; a different
 * root already on chain is E_LEDGER_ROUND_CONFLICT; a run a challenge froze (RunFrozen) is E_LEDGER_RUN_FROZEN.
 */
export type RecordRoundErrorType = TxErrorType | LedgerErrorType<'E_LEDGER_ROUND_CONFLICT' | 'E_LEDGER_RUN_FROZEN'>;

/**
 * Records a round: `entries` are this round's (worker, amount); `cumulativeRoot` is the root of the
 * tree over everyone's totals including this round. Idempotent: if this exact round is already on
 * chain with the same root (a retry after a crash or an outage), resolves 'already-recorded' with
 * the original transaction. A different root for the same round is E_LEDGER_ROUND_CONFLICT.
 */
export async function recordRound(ledger: Ledger, params: RecordRoundParameters): Promise<RecordRoundReturnType> {
  const packed = packRound(params.entries);
  const scoring = params.scoring ?? { assignmentRoot: ZeroHash, record: '0x' };
  const args = [params.runId, params.round, params.modelHash ?? ZeroHash, sumRound(params.entries), packed, params.cumulativeRoot, scoring.assignmentRoot, scoring.record];
  try {
    const receipt = await send(ledger, 'recordRound', args);
    return { ...txResult(receipt), status: 'recorded', packedBytes: (packed.length - 2) / 2 };
  } catch (err) {
    // RoundAlreadyRecorded from the estimate, or a bare on-chain revert: our own earlier transaction
    // (still pending when a receipt wait timed out) may have won. The event decides.
    if (!(err instanceof CohortError) || err.code !== 'E_LEDGER_REVERTED') throw err;
    const name = revertName(err);
    if (name === 'RunFrozen') {
      throw new CohortError('E_LEDGER_RUN_FROZEN', `run ${params.runId} is frozen by a challenge: its researcher must call unfreezeRun before round ${params.round} can be recorded`, {
        details: err.details, cause: err,
      });
    }
    if (name !== 'RoundAlreadyRecorded' && name !== undefined) throw err;
    const existing = (await roundRecords(ledger, params.runId, { round: params.round }))[0];
    if (name === undefined && existing === undefined) throw err;
    if (existing === undefined || existing.cumulativeRoot !== params.cumulativeRoot) {
      throw new CohortError(
        'E_LEDGER_ROUND_CONFLICT',
        existing === undefined
          ? `round ${params.round} of run ${params.runId} can no longer be recorded: a later round already is`
          : `round ${params.round} of run ${params.runId} is already recorded with root ${existing.cumulativeRoot}`,
        { details: { existing }, cause: err },
      );
    }
    const receipt = await ledger.contract.runner?.provider?.getTransactionReceipt(existing.txHash);
    const { txHash, blockNumber } = existing;
    return { txHash, blockNumber, gasUsed: receipt?.gasUsed ?? 0n, status: 'already-recorded', packedBytes: (packed.length - 2) / 2 };
  }
}

/** Claims for `proof.account` (the funds go only there, whoever signs). Returns the amount paid. */
export type ClaimParameters = { runId: bigint } & RewardProof;
export type ClaimReturnType = TxResult & { amount: bigint };
/** Reverts: InvalidProof, NothingToClaim, ClaimExceedsAllocation, FailedCall, SafeERC20FailedOperation. */
export type ClaimErrorType = TxErrorType;

export async function claim(ledger: Ledger, params: ClaimParameters): Promise<ClaimReturnType> {
  const receipt = await send(ledger, 'claim', [params.runId, params.account, params.cumulativeAmount, [...params.proof]]);
  const event = findEvent(ledger, receipt, 'Claimed');
  return { ...txResult(receipt), amount: event.args[2] as bigint };
}

/**
 * A fraud proof against the pending root: `claimable` is an account's leaf and proof under the
 * claimable root, `pending` the same account's under the pending root, with a smaller amount. Anyone
 * may send it inside the window; it rejects the pending root and freezes the run.
 */
export type ChallengeRootParameters = { runId: bigint; claimable: RewardProof; pending: RewardProof };
export type ChallengeRootReturnType = TxResult & { rejectedRoot: string };
/** The contract refused the proof (ChallengeNotLower, ChallengeProofInvalid, NoPendingRoot, ChallengeWindowClosed, RunNotFound; name in details.error): E_LEDGER_CHALLENGE_INVALID. */
export type ChallengeRootErrorType = TxErrorType | LedgerErrorType<'E_LEDGER_CHALLENGE_INVALID' | 'E_LEDGER_INPUT'>;

const CHALLENGE_REVERTS = new Set(['ChallengeNotLower', 'ChallengeProofInvalid', 'NoPendingRoot', 'ChallengeWindowClosed', 'RunNotFound']);

export async function challengeRoot(ledger: Ledger, params: ChallengeRootParameters): Promise<ChallengeRootReturnType> {
  const { claimable, pending } = params;
  if (claimable.account.toLowerCase() !== pending.account.toLowerCase()) {
    throw new CohortError('E_LEDGER_INPUT', `a challenge compares one account's leaves, not ${claimable.account} and ${pending.account}`);
  }
  const args = [params.runId, claimable.account, claimable.cumulativeAmount, [...claimable.proof], pending.cumulativeAmount, [...pending.proof]];
  try {
    const receipt = await send(ledger, 'challengeRoot', args);
    const event = findEvent(ledger, receipt, 'RootRejected');
    return { ...txResult(receipt), rejectedRoot: event.args[2] as string };
  } catch (err) {
    const name = revertName(err);
    if (err instanceof CohortError && name !== undefined && CHALLENGE_REVERTS.has(name)) {
      throw new CohortError('E_LEDGER_CHALLENGE_INVALID', `challenge refused: ${err.message}`, { details: err.details, cause: err });
    }
    throw err;
  }
}

/** Lifts a challenge's freeze (the researcher only); `coordinator` records from now on (the same one to keep it). */
export type UnfreezeRunParameters = { runId: bigint; coordinator: string };
export type UnfreezeRunReturnType = TxResult;
/** Reverts: RunNotFound, NotResearcher, RunNotFrozen, ZeroAddress. */
export type UnfreezeRunErrorType = TxErrorType;

export async function unfreezeRun(ledger: Ledger, params: UnfreezeRunParameters): Promise<UnfreezeRunReturnType> {
  return txResult(await send(ledger, 'unfreezeRun', [params.runId, params.coordinator]));
}

/** Ends a run (researcher or coordinator): no more funding or rounds; claims stay open. */
export type EndRunParameters = { runId: bigint };
export type EndRunReturnType = TxResult;
/** Reverts: RunNotFound, NotResearcherOrCoordinator, RunAlreadyEnded. */
export type EndRunErrorType = TxErrorType;

export async function endRun(ledger: Ledger, params: EndRunParameters): Promise<EndRunReturnType> {
  return txResult(await send(ledger, 'endRun', [params.runId]));
}

/** Sends the researcher (the signer) the never-allocated funds of an ended run. */
export type WithdrawParameters = { runId: bigint };
export type WithdrawReturnType = TxResult & { amount: bigint };
/** Reverts: RunNotFound, NotResearcher, RunNotEnded, NothingToWithdraw. */
export type WithdrawErrorType = TxErrorType;

export async function withdraw(ledger: Ledger, params: WithdrawParameters): Promise<WithdrawReturnType> {
  const receipt = await send(ledger, 'withdraw', [params.runId]);
  const event = findEvent(ledger, receipt, 'Withdrawn');
  return { ...txResult(receipt), amount: event.args[2] as bigint };
}

export type RunStatusParameters = [runId: bigint];
export type RunStatusReturnType = RunStatus;
/** Reverts: RunNotFound. */
export type RunStatusErrorType = CallErrorType;

export async function runStatus(ledger: Ledger, ...[runId]: RunStatusParameters): Promise<RunStatusReturnType> {
  const r = (await call(ledger, 'getRun', [runId])) as unknown as {
    researcher: string; coordinator: string; token: string; ended: boolean; nextRound: bigint; roundsRecorded: bigint;
    root: string; pendingRoot: string; claimableAt: bigint; challengeWindow: bigint; frozen: boolean;
    funded: bigint; allocated: bigint; claimed: bigint; withdrawn: bigint;
  };
  return {
    runId, researcher: r.researcher, coordinator: r.coordinator, token: r.token, ended: r.ended,
    nextRound: Number(r.nextRound), roundsRecorded: Number(r.roundsRecorded), root: r.root,
    pendingRoot: r.pendingRoot, claimableAt: Number(r.claimableAt), challengeWindow: Number(r.challengeWindow), frozen: r.frozen,
    funded: r.funded, allocated: r.allocated, claimed: r.claimed, withdrawn: r.withdrawn,
    unallocated: r.funded - r.allocated - r.withdrawn, unclaimed: r.allocated - r.claimed,
  };
}

export type RunCountParameters = [];
export type RunCountReturnType = bigint;
export type RunCountErrorType = CallErrorType;

export async function runCount(ledger: Ledger): Promise<RunCountReturnType> {
  return (await call(ledger, 'runCount', [])) as bigint;
}

/** Cumulative amount already paid to `account` in `runId`. */
export type PaidOfParameters = [runId: bigint, account: string];
export type PaidOfReturnType = bigint;
export type PaidOfErrorType = CallErrorType;

export async function paidOf(ledger: Ledger, ...[runId, account]: PaidOfParameters): Promise<PaidOfReturnType> {
  return (await call(ledger, 'paidOf', [runId, account])) as bigint;
}

/** Reward balance of `account`: ETH when `token` is ZeroAddress, else the ERC-20's balanceOf. */
export type RewardBalanceParameters = [provider: Provider, token: string, account: string];
export type RewardBalanceReturnType = bigint;
export type RewardBalanceErrorType = CallErrorType;

export async function rewardBalance(...[provider, token, account]: RewardBalanceParameters): Promise<RewardBalanceReturnType> {
  if (token === ZeroAddress) return provider.getBalance(account);
  return (await new Contract(token, ERC20_ABI, provider).getFunction('balanceOf')(account)) as bigint;
}

