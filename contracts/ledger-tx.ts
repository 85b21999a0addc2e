/**
 * The ledger handle and the plumbing every ledger operation shares: estimate-then-send with revert
 * decoding, reads, event queries. Runtime-neutral.
 *
 * Every write estimates gas first, so a revert is reported before anything is signed, as a
 * CohortError E_LEDGER_REVERTED whose `details.error` is the contract's custom error name
 * (ethers leaves custom errors undecoded on estimateGas; we decode them with the ledger's ABI).
 * A NonceManager signer is reset after a failed send, so the next transaction is not stuck
 * behind a nonce that was never used. Unreachable RPC is E_CHAIN_UNAVAILABLE.
 */
import {
  NonceManager, isError,
  type Contract, type ContractRunner, type EventLog, type Log, type Signer, type TransactionReceipt,
} from 'ethers';
import { CohortError } from '../core/protocol/errors.js';

export interface Ledger {
  readonly address: string;
  readonly contract: Contract;
  readonly runner: ContractRunner;
  /** First block to scan for events (the deployment block); 0 scans from genesis. */
  readonly fromBlock: number;
  /** How long to wait for a sent transaction's receipt before reporting E_CHAIN_UNAVAILABLE. */
  readonly receiptTimeoutMs: number;
}

/** Where an event or transaction landed. */
export interface OnChain {
  readonly txHash: string;
  readonly blockNumber: number;
}

export interface TxResult extends OnChain {
  readonly gasUsed: bigint;
}

/** The custom error name behind an E_LEDGER_REVERTED error, if any. */
export function revertName(err: unknown): string | undefined {
  if (!(err instanceof CohortError) || err.code !== 'E_LEDGER_REVERTED') return undefined;
  const details = err.details as { error?: string } | undefined;
  return details?.error;
}

export async function send(ledger: Ledger, method: string, args: unknown[], overrides: { value?: bigint } = {}): Promise<TransactionReceipt> {
  const fn = ledger.contract.getFunction(method);
  let gasLimit: bigint;
  try {
    gasLimit = await fn.estimateGas(...args, overrides);
  } catch (err) {
    throw toCohortError(ledger, method, err);
  }
  try {
    // 20% headroom: estimates are exact on a quiet chain, but state can move before inclusion.
    const tx = await fn.send(...args, { ...overrides, gasLimit: (gasLimit * 12n) / 10n });
    const receipt = await tx.wait(1, ledger.receiptTimeoutMs);
    if (receipt === null) throw new CohortError('E_CHAIN_UNAVAILABLE', `${method}: no receipt for ${tx.hash}`);
    return receipt;
  } catch (err) {
    if (ledger.runner instanceof NonceManager) ledger.runner.reset();
    throw toCohortError(ledger, method, err);
  }
}

export async function call(ledger: Ledger, method: string, args: unknown[]): Promise<unknown> {
  try {
    return await ledger.contract.getFunction(method).staticCall(...args);
  } catch (err) {
    throw toCohortError(ledger, method, err);
  }
}

export function toCohortError(ledger: Ledger, method: string, err: unknown): unknown {
  if (err instanceof CohortError) return err;
  if (isError(err, 'CALL_EXCEPTION')) {
    const parsed = err.revert ?? (err.data ? ledger.contract.interface.parseError(err.data) : null);
    if (parsed) {
      const args = [...parsed.args].map((a: unknown) => (typeof a === 'bigint' ? a.toString() : a));
      return new CohortError('E_LEDGER_REVERTED', `${method} reverted: ${parsed.name}(${args.join(', ')})`, {
        details: { error: parsed.name, args },
        cause: err,
      });
    }
    return new CohortError('E_LEDGER_REVERTED', `${method} reverted: ${err.shortMessage}`, { details: { error: undefined }, cause: err });
  }
  if (isError(err, 'NETWORK_ERROR') || isError(err, 'TIMEOUT') || isError(err, 'SERVER_ERROR') || isConnectionRefused(err)) {
    return new CohortError('E_CHAIN_UNAVAILABLE', `${method}: the chain did not answer`, { cause: err });
  }
  return err;
}

function isConnectionRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
  }
  return false;
}

export function signerOf(ledger: Ledger): Signer {
  const runner = ledger.runner as Partial<Signer>;
  if (typeof runner.getAddress !== 'function') throw new CohortError('E_LEDGER_INPUT', 'this ledger handle has no signer');
  return ledger.runner as Signer;
}

export function findEvent(ledger: Ledger, receipt: TransactionReceipt, name: string): { args: readonly unknown[] } {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== ledger.address.toLowerCase()) continue;
    const parsed = ledger.contract.interface.parseLog(log);
    if (parsed?.name === name) return parsed;
  }
  throw new CohortError('E_LEDGER_REVERTED', `transaction ${receipt.hash} emitted no ${name} event`);
}

export async function queryEvents(ledger: Ledger, name: string, topics: unknown[]): Promise<EventLog[]> {
  try {
    const filter = ledger.contract.filters[name];
    if (filter === undefined) throw new Error(`no event ${name}`);
    const logs: (EventLog | Log)[] = await ledger.contract.queryFilter(filter(...topics), ledger.fromBlock, 'latest');
    return logs.filter((l): l is EventLog => 'args' in l);
  } catch (err) {
    throw toCohortError(ledger, `query ${name}`, err);
  }
}

export function txResult(receipt: TransactionReceipt): TxResult {
  return { txHash: receipt.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
}
