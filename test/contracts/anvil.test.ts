import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HDNodeWallet, Interface, ZeroAddress } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { startAnvil } from '../../contracts/node/anvil.js';
import { deployLedger, loadArtifact } from '../../contracts/node/deploy.js';
import { LEDGER_ABI } from '../../contracts/ledger-abi.js';
import {
  connectChain, connectLedger, createRun, fundRun, recordRound, runCount, runStatus, walletSigner,
} from '../../contracts/ledger-client.js';
import { ensureBuilt } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-anvil-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rpcAnswers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

describe('startAnvil', () => {
  it('listens on a free local port with the well-known dev accounts, and stops', async () => {
    const chain = await startAnvil();
    expect(chain.rpcUrl).toBe(`http://127.0.0.1:${chain.port}`);
    expect(chain.chainId).toBe(31337);
    const phrase = 'test test test test test test test test test test test junk';
    const second = HDNodeWallet.fromPhrase(phrase, undefined, "m/44'/60'/0'/0/1");
    expect([chain.accounts[1], chain.privateKeys[1]]).toEqual([second.address, second.privateKey]);
    expect(await rpcAnswers(chain.port)).toBe(true);

    await Promise.all([chain.stop(), chain.stop()]); // idempotent

    expect(chain.running).toBe(false);
    expect(await rpcAnswers(chain.port)).toBe(false);
  });

  it('restarts on the same port and state after an outage; the same provider recovers', async () => {
    // Prepare: a ledger with one run, on a chain that dumps its state when stopped.
    ensureBuilt();
    const statePath = join(dir, 'state.json');
    const first = await startAnvil({ statePath });
    const provider = await connectChain(first.rpcUrl);
    const { ledger } = await deployLedger(walletSigner(first.privateKeys[0] ?? '', provider));
    const { runId } = await createRun(ledger, { coordinator: first.accounts[0] ?? '' });
    await fundRun(ledger, { runId, amount: 100n });
    const round = { runId, round: 0, entries: [{ account: first.accounts[2] ?? '', amount: 100n }], cumulativeRoot: `0x${'11'.repeat(32)}` };
    const recorded = await recordRound(ledger, round);

    // Execute: outage, then restart in place.
    await first.stop();
    const during = await runStatus(ledger, runId).catch((e: unknown) => e);
    const second = await startAnvil({ statePath, port: first.port });

    // Assert
    expect(during).toMatchObject({ code: 'E_CHAIN_UNAVAILABLE' });
    expect(second.rpcUrl).toBe(first.rpcUrl);
    expect(await runCount(ledger)).toBe(1n);
    expect(await runStatus(ledger, runId)).toMatchObject({ researcher: first.accounts[0], token: ZeroAddress, allocated: 100n });
    // Events survive too, so an outbox retry of the same round is recognised as done.
    expect(await recordRound(ledger, round)).toMatchObject({ status: 'already-recorded', txHash: recorded.txHash });
    await createRun(connectLedger(ledger.address, walletSigner(second.privateKeys[0] ?? '', provider)), { coordinator: ZeroAddress.replace(/0$/, '1') });
    expect(await runCount(ledger)).toBe(2n);
    provider.destroy();
    await second.stop();
  });

  it('dies with its parent, even when the parent is SIGKILLed', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/orphan-anvil.ts', import.meta.url));
    const parent = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      parent.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
      parent.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
    });
    expect(await rpcAnswers(port)).toBe(true);

    parent.kill('SIGKILL');

    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await rpcAnswers(port))) await new Promise((r) => setTimeout(r, 100));
    expect(await rpcAnswers(port)).toBe(false);
  });

  it('reports a clear error when anvil cannot start', async () => {
    const chain = await startAnvil();
    await expect(startAnvil({ port: chain.port, startTimeoutMs: 5_000 })).rejects.toMatchObject({ code: 'E_CHAIN_NODE' });
    await chain.stop();
  });
});

describe('LEDGER_ABI', () => {
  it('matches the compiled contract', () => {
    ensureBuilt();
    const format = (abi: ConstructorParameters<typeof Interface>[0]): string[] => new Interface(abi).format().sort();
    expect(format([...LEDGER_ABI])).toEqual(format(loadArtifact('ContributionLedger').abi));
  });
});
