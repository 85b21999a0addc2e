/**
 * Deploying the contracts from the artifacts that scripts/build-contracts.mjs writes. Node only
 * (it reads contracts/artifacts/ from disk); everything else lives in the runtime-neutral
 * ledger-client.ts.
 */
import { readFileSync } from 'node:fs';
import { ContractFactory, NonceManager, isError, type InterfaceAbi, type Signer } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';
import { connectLedger, type Ledger } from '../ledger-client.js';

export interface Artifact {
  readonly contractName: string;
  readonly abi: InterfaceAbi;
  readonly bytecode: string;
  readonly compiler: { solc: string; evmVersion: string };
}

export type ArtifactName = 'ContributionLedger' | 'TestToken' | 'ReentrantReceiver';

/** Reads contracts/artifacts/<name>.json; E_LEDGER_ARTIFACT if the build has not run. */
export function loadArtifact(name: ArtifactName): Artifact {
  const url = new URL(`../artifacts/${name}.json`, import.meta.url);
  let artifact: Partial<Artifact>;
  try {
    artifact = JSON.parse(readFileSync(url, 'utf8')) as Partial<Artifact>;
  } catch (err) {
    throw new CohortError('E_LEDGER_ARTIFACT', `cannot read ${url.pathname}: run \`npm run build\` (or node scripts/build-contracts.mjs)`, { cause: err });
  }
  if (!Array.isArray(artifact.abi) || typeof artifact.bytecode !== 'string' || !artifact.bytecode.startsWith('0x')) {
    throw new CohortError('E_LEDGER_ARTIFACT', `${url.pathname} has no abi or bytecode; rebuild with node scripts/build-contracts.mjs --force`);
  }
  return artifact as Artifact;
}

export interface Deployment {
  readonly address: string;
  readonly txHash: string;
  readonly blockNumber: number;
  readonly gasUsed: bigint;
}

/** Deploys any built contract; resolves once it is mined. */
export async function deployArtifact(name: ArtifactName, signer: Signer, args: unknown[] = []): Promise<Deployment> {
  const { abi, bytecode } = loadArtifact(name);
  try {
    const contract = await new ContractFactory(abi, bytecode, signer).deploy(...args);
    const receipt = await contract.deploymentTransaction()?.wait();
    if (!receipt) throw new CohortError('E_CHAIN_UNAVAILABLE', `no receipt for the ${name} deployment`);
    return { address: await contract.getAddress(), txHash: receipt.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
  } catch (err) {
    if (signer instanceof NonceManager) signer.reset(); // its nonce may have been taken without a transaction
    if (err instanceof CohortError) throw err;
    const down = isError(err, 'NETWORK_ERROR') || isError(err, 'TIMEOUT') || isError(err, 'SERVER_ERROR');
    throw new CohortError(down ? 'E_CHAIN_UNAVAILABLE' : 'E_LEDGER_REVERTED', `deploying ${name} failed`, { cause: err });
  }
}

/**
 * Deploys a ContributionLedger and returns a handle on it whose event scans start at the
 * deployment block. Keep `deployment.address` and `deployment.blockNumber` (for connectLedger's
 * `fromBlock`) in the run store or config.
 */
export async function deployLedger(signer: Signer): Promise<{ ledger: Ledger; deployment: Deployment }> {
  const deployment = await deployArtifact('ContributionLedger', signer);
  return { ledger: connectLedger(deployment.address, signer, { fromBlock: deployment.blockNumber }), deployment };
}
