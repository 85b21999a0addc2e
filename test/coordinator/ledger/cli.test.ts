// `cohort ledger …` and `cohort rewards`, called in-process against a real anvil: a researcher
// deploys, creates and funds a run, a worker checks and claims, the researcher withdraws the rest.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerCommand, rewardsCommand, LEDGER_HELP } from '../../../bin/ledger-commands.js';
import { startAnvil, type AnvilChain } from '../../../contracts/node/anvil.js';
import { connectChain, connectLedger, recordRound, walletSigner } from '../../../contracts/ledger-client.js';
import { RewardTree } from '../../../contracts/merkle.js';
import { ensureBuilt } from '../../contracts/helpers.js';

let anvil: AnvilChain;
let dir: string;
let researcherKeyFile: string;
let workerKeyFile: string;
const worker = Wallet.createRandom();

beforeAll(async () => {
  ensureBuilt();
  anvil = await startAnvil();
  dir = mkdtempSync(join(tmpdir(), 'cohort-ledger-cli-'));
  researcherKeyFile = keyFile('researcher.key', anvil.privateKeys[0] ?? '');
  workerKeyFile = keyFile('worker.key', worker.privateKey);
});
afterAll(async () => {
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function keyFile(name: string, key: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, `${key}\n`, { mode });
  chmodSync(path, mode);
  return path;
}

/** Runs a command in-process; returns its exit code and its one JSON line. */
async function run(
  command: typeof ledgerCommand,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; json: Record<string, unknown>; lines: string[] }> {
  const lines: string[] = [];
  const code = await command(argv, { out: (line) => lines.push(line) }, env);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>;
  } catch {
    // not --json
  }
  return { code, json, lines };
}

describe('cohort ledger / cohort rewards', () => {
  it('takes a run from deployment to claim and withdrawal', async () => {
    const rpc = ['--rpc-url', anvil.rpcUrl];
    // Researcher: deploy (key from a 0600 file), create a run (key from COHORT_KEY), fund it in ETH.
    const deployed = await run(ledgerCommand, ['deploy', ...rpc, '--key-file', researcherKeyFile, '--json']);
    expect(deployed).toMatchObject({ code: 0, json: { chainId: 31337, ledger: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/) } });
    const ledger = String(deployed.json.ledger);
    const at = [...rpc, '--ledger', ledger];
    const created = await run(ledgerCommand, ['create-run', ...at, '--coordinator', anvil.accounts[1] ?? '', '--json'], { COHORT_KEY: anvil.privateKeys[0] });
    expect(created.json).toMatchObject({ runId: '1', coordinator: anvil.accounts[1] });
    const funded = await run(ledgerCommand, ['fund', ...at, '--run', '1', '--amount', '0.01eth', '--key-file', researcherKeyFile, '--json']);
    expect(funded.json).toMatchObject({ credited: parseEther('0.01').toString(), funded: parseEther('0.01').toString() });

    // The coordinator records one round paying the worker 0.004 ETH.
    const provider = await connectChain(anvil.rpcUrl);
    const asCoordinator = connectLedger(ledger, walletSigner(anvil.privateKeys[1] ?? '', provider));
    const amount = parseEther('0.004');
    const tree = RewardTree.build(new Map([[worker.address, amount]]));
    await recordRound(asCoordinator, { runId: 1n, round: 1, entries: [{ account: worker.address, amount }], cumulativeRoot: tree.root });
    await provider.send('anvil_setBalance', [worker.address, '0x2386F26FC10000']); // 0.01 ETH for gas
    provider.destroy();

    // Worker: look, claim, look again.
    const rewards = [...at, '--run', '1', '--key', workerKeyFile, '--json'];
    expect((await run(rewardsCommand, rewards)).json).toMatchObject({ account: worker.address, earned: amount.toString(), claimed: '0', claimable: amount.toString() });
    expect((await run(rewardsCommand, [...rewards, '--claim'])).json).toMatchObject({ claimedNow: amount.toString(), claimed: amount.toString(), claimable: '0' });
    expect((await run(rewardsCommand, [...at, '--run', '1', '--address', worker.address, '--claim', '--json']).catch((e: unknown) => e))).toMatchObject({ code: 'E_CLI_USAGE' });
    expect((await run(rewardsCommand, [...at, '--run', '1', '--address', worker.address, '--json'])).json).toMatchObject({ earned: amount.toString(), claimable: '0' });
    const again = await run(rewardsCommand, [...rewards, '--claim']);
    expect(again.json).toMatchObject({ claimedNow: '0' });

    // Researcher: status, then withdraw the unallocated 0.006 ETH (ending the run first).
    const status = await run(ledgerCommand, ['status', ...at, '--run', '1', '--json']);
    expect(status.json).toMatchObject({ roundsRecorded: 1, allocated: amount.toString(), claimed: amount.toString(), ended: false });
    const researcher = ['--key-file', researcherKeyFile, '--json'];
    await expect(run(ledgerCommand, ['withdraw', ...at, '--run', '1', ...researcher])).rejects.toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('--end') });
    const withdrawn = await run(ledgerCommand, ['withdraw', ...at, '--run', '1', '--end', ...researcher]);
    expect(withdrawn.json).toMatchObject({ withdrawn: parseEther('0.006').toString(), ended: true, unallocated: '0' });
    expect((await run(ledgerCommand, ['status', ...at, '--json'])).json).toMatchObject({ runCount: '1' });

    // A run with a challenge window: status shows it, and that nothing is pending or frozen.
    const windowed = ['create-run', ...at, '--coordinator', anvil.accounts[1] ?? '', '--challenge-window', '3600', '--json'];
    expect((await run(ledgerCommand, windowed, { COHORT_KEY: anvil.privateKeys[0] })).json).toMatchObject({ runId: '2', challengeWindowSeconds: 3600 });
    expect((await run(ledgerCommand, ['status', ...at, '--run', '2', '--json'])).json).toMatchObject({ challengeWindow: 3600, claimableAt: 0, frozen: false });

    // Without --json: one "key  value" line per field, amounts in wei and ETH.
    const human = await run(ledgerCommand, ['status', ...at, '--run', '1']);
    expect(human.lines.find((l) => l.startsWith('funded'))).toContain('10000000000000000 wei (0.01 ETH)');
  });

  it('refuses keys on the command line, readable key files and bad flags', async () => {
    const at = ['--rpc-url', anvil.rpcUrl, '--ledger', anvil.accounts[9] ?? ''];
    const fail = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);
    expect(await fail(run(ledgerCommand, ['deploy', '--rpc-url', anvil.rpcUrl, '--key-file', anvil.privateKeys[0] ?? '']))).toMatchObject({ code: 'E_CLI_USAGE' });
    const loose = keyFile('loose.key', anvil.privateKeys[0] ?? '', 0o644);
    expect(await fail(run(ledgerCommand, ['deploy', '--rpc-url', anvil.rpcUrl, '--key-file', loose]))).toMatchObject({ code: 'E_KEY_FILE' });
    expect(await fail(run(ledgerCommand, ['deploy', '--rpc-url', anvil.rpcUrl]))).toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('COHORT_KEY') });
    expect(await fail(run(ledgerCommand, ['fund', ...at]))).toMatchObject({ code: 'E_CLI_USAGE' });
    const badWindow = ['create-run', ...at, '--coordinator', anvil.accounts[1] ?? '', '--challenge-window', '1.5'];
    expect(await fail(run(ledgerCommand, badWindow, { COHORT_KEY: anvil.privateKeys[0] }))).toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('challenge-window') });
    expect(await fail(run(ledgerCommand, ['status', '--ledger', anvil.accounts[9] ?? '']))).toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('--rpc-url') });
    expect(await fail(run(ledgerCommand, ['launch', ...at]))).toMatchObject({ code: 'E_CLI_USAGE' });
    expect(await fail(run(rewardsCommand, [...at, '--run', '1']))).toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('--key') });
    expect(await fail(run(rewardsCommand, [...at, '--run', 'one', '--key', workerKeyFile]))).toMatchObject({ code: 'E_CLI_USAGE' });
    expect((await run(ledgerCommand, ['--help'])).lines).toEqual([LEDGER_HELP]);
  });
});
