/** Shared set-up for the contract suites: a built artifact set and a fresh anvil per test file. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Contract, Interface, isError, parseEther, type JsonRpcProvider, type NonceManager } from 'ethers';
import { expect } from 'vitest';
import { startAnvil, type AnvilChain } from '../../contracts/node/anvil.js';
import { deployArtifact, deployLedger, loadArtifact, type ArtifactName } from '../../contracts/node/deploy.js';
import { LEDGER_ABI } from '../../contracts/ledger-abi.js';
import { connectChain, connectLedger, revertName, walletSigner, type Ledger } from '../../contracts/ledger-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Compiles the contracts unless they are up to date (about 2 s cold, 0.1 s warm). */
export function ensureBuilt(): void {
  execFileSync(process.execPath, ['scripts/build-contracts.mjs', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
}

export interface TestChain {
  chain: AnvilChain;
  provider: JsonRpcProvider;
  researcher: NonceManager;
  coordinator: NonceManager;
  /** Dev accounts 2..9, each with 10 000 ETH. */
  workers: NonceManager[];
  /** The ledger as seen by each role. */
  asResearcher: Ledger;
  asCoordinator: Ledger;
  as(signer: NonceManager): Ledger;
  stop(): Promise<void>;
}

/** `tracing` turns on anvil's step tracing, which debug_traceTransaction needs to list opcodes. */
export async function startTestChain(options: { tracing?: boolean } = {}): Promise<TestChain> {
  ensureBuilt();
  const chain = await startAnvil({ extraArgs: options.tracing ? ['--steps-tracing'] : [] });
  const provider = await connectChain(chain.rpcUrl, { chainId: chain.chainId });
  const signers = chain.privateKeys.map((k) => walletSigner(k, provider));
  const [researcher, coordinator, ...workers] = signers;
  if (!researcher || !coordinator) throw new Error('anvil gave too few accounts');
  const { ledger } = await deployLedger(researcher);
  const as = (signer: NonceManager): Ledger => connectLedger(ledger.address, signer);
  return {
    chain, provider, researcher, coordinator, workers,
    asResearcher: ledger, asCoordinator: as(coordinator), as,
    stop: async () => {
      provider.destroy();
      await chain.stop();
    },
  };
}

/** Deploys a built test contract and returns it bound to `signer`. */
export async function deployTest(name: ArtifactName, signer: NonceManager, args: unknown[] = []): Promise<Contract> {
  const { address } = await deployArtifact(name, signer, args);
  return new Contract(address, loadArtifact(name).abi, signer);
}

/**
 * Asserts that `promise` rejects with the contract's custom error `name`: decoded by the client
 * (CohortError E_LEDGER_REVERTED) or, for raw contract calls, by ethers' Interface (`err.revert`).
 */
export async function expectRevert(promise: Promise<unknown>, name: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a ${name} revert`).toBeDefined();
  const decoded = isError(err, 'CALL_EXCEPTION')
    ? (err.revert?.name ?? (err.data ? LEDGER_INTERFACE.parseError(err.data)?.name : undefined))
    : revertName(err);
  expect(decoded, String(err)).toBe(name);
}

const LEDGER_INTERFACE = new Interface(LEDGER_ABI);

export const ETH = (n: string): bigint => parseEther(n);
