/** A real anvil with a deployed ledger and a funded run whose coordinator is dev account 1. */
import { parseEther, type JsonRpcProvider } from 'ethers';
import { startAnvil, type AnvilChain, type AnvilOptions } from '../../../contracts/node/anvil.js';
import { deployLedger } from '../../../contracts/node/deploy.js';
import { connectChain, connectLedger, createRun, fundRun, walletSigner, type Ledger } from '../../../contracts/ledger-client.js';
import { parseLedgerConfig, type LedgerConfig } from '../../../coordinator/ledger/ledger-config.js';
import { ensureBuilt } from '../../contracts/helpers.js';

export interface LedgerChain {
  anvil: AnvilChain;
  provider: JsonRpcProvider;
  /** A read-only handle for assertions. */
  reader: Ledger;
  /** The researcher's handle (dev account 0). */
  researcher: Ledger;
  chainRunId: bigint;
  coordinatorKey: string;
  coordinator: string;
  config: LedgerConfig;
  stop(): Promise<void>;
}

export async function startLedgerChain(
  options: { budgetWei?: bigint; rounds?: number; anvil?: AnvilOptions; challengeWindowSeconds?: number } = {},
): Promise<LedgerChain> {
  ensureBuilt();
  const anvil = await startAnvil(options.anvil);
  const provider = await connectChain(anvil.rpcUrl, { chainId: anvil.chainId });
  const { ledger: researcher, deployment } = await deployLedger(walletSigner(anvil.privateKeys[0] ?? '', provider));
  const coordinator = anvil.accounts[1] ?? '';
  const budgetWei = options.budgetWei ?? parseEther('0.3');
  const { runId } = await createRun(researcher, { coordinator, challengeWindowSeconds: options.challengeWindowSeconds ?? 0 });
  await fundRun(researcher, { runId, amount: budgetWei });
  const config = parseLedgerConfig({
    rpcUrl: anvil.rpcUrl,
    ledgerAddress: deployment.address,
    chainRunId: runId,
    fromBlock: deployment.blockNumber,
    budgetWei,
    rounds: options.rounds ?? 3,
  });
  return {
    anvil, provider, researcher, chainRunId: runId, coordinator, config,
    reader: connectLedger(deployment.address, provider, { fromBlock: deployment.blockNumber }),
    coordinatorKey: anvil.privateKeys[1] ?? '',
    stop: async () => {
      provider.destroy();
      await anvil.stop();
    },
  };
}

/** Polls `check` until it returns true, up to `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const FAST_SENDER = { initialBackoffMs: 50, maxBackoffMs: 250, idlePollMs: 100 } as const;
