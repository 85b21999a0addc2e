/**
 * Coordinator memory under a pre-sign-in flood (issue 13, point 7): 1,000 connections that each
 * send one oversized frame (24 MiB announced, written as fast as the socket takes it) before
 * signing in, while three honest local workers keep training.
 *
 * The coordinator is a real `cohort serve` child process, so its RSS (from /proc) is its own. The
 * attackers connect from 40 loopback addresses (127.0.1.1–40, 25 each), inside the default
 * per-address limit of 32; the honest workers are on 127.0.0.1.
 *
 * Environment: COHORT_BENCH_PREAUTH_CONNECTIONS (default 1000) and COHORT_BENCH_BIN (another
 * checkout's bin/cohort.js, to measure code from before a fix; use few connections there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS } from '../core/protocol/limits.js';
import { RawWsClient } from '../test/security/raw-ws-client.js';

const FRAME_BYTES = 24 * 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024);
const ATTACK_ADDRESSES = 40;
const MiB = 1024 * 1024;

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function health(port: number): Promise<{ round: number; workers: number } | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { round: number; workers: number };
  } catch {
    return undefined;
  }
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`preauth-memory: ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One attacker: connect, announce a 24 MiB frame, write it until the coordinator closes on us. */
async function attack(url: string, from: string): Promise<string> {
  let client: RawWsClient;
  try {
    client = await RawWsClient.connect(url, from);
  } catch (error) {
    return `connect failed: ${(error as Error).message.slice(0, 40)}`;
  }
  client.writeHeader(FRAME_BYTES);
  for (let sent = 0; sent < FRAME_BYTES && client.isOpen; sent += CHUNK.byteLength) {
    if (!client.writePayload(CHUNK)) await client.drained();
  }
  const closed = await Promise.race([client.closed, new Promise<undefined>((r) => setTimeout(r, 60_000))]);
  client.destroy();
  const error = client.messages.find((m) => m.type === 'error');
  return `${error && error.type === 'error' ? error.code : 'no error message'} / close ${closed?.code ?? 'none in 60 s'}`;
}

export async function run(): Promise<string> {
  const connections = Number(process.env.COHORT_BENCH_PREAUTH_CONNECTIONS ?? 1000);
  const bin = process.env.COHORT_BENCH_BIN ?? fileURLToPath(new URL('../bin/cohort.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'cohort-bench-preauth-'));
  const port = await freePort();
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--store', join(dir, 'run.sqlite'), '--local-workers', '3'];
  const child: ChildProcess = spawn(process.execPath, [bin, ...args, '--no-secure-agg', '--rounds', '100000', '--max-local-steps', '5', '--eval', 'none', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  try {
    const pid = child.pid!;
    const url = `ws://127.0.0.1:${port}/ws`;
    // Honest workers are training before the attack starts.
    await until(async () => ((await health(port))?.round ?? 0) >= 3 || undefined, 180_000, 'three rounds were not trained');
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      samples.push(rssBytes(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = samples.sort((a, b) => a - b)[5]!;
    const roundsBefore = (await health(port))!.round;

    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: connections }, (_, i) => attack(url, `127.0.1.${1 + (i % ATTACK_ADDRESSES)}`)));
    const attackMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 3_000));
    clearInterval(sampler);
    const after = rssBytes(pid);
    const roundsAfter = (await health(port))?.round ?? roundsBefore;

    const counts = new Map<string, number>();
    for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
    return [
      `| connections | frame announced | RSS before | peak RSS during | RSS 3 s after | peak growth | rounds trained during the attack (${(attackMs / 1000).toFixed(1)} s) + 3 s |`,
      `|---|---|---|---|---|---|---|`,
      `| ${connections} | ${mib(FRAME_BYTES)} | ${mib(before)} | ${mib(peak)} | ${mib(after)} | ${mib(peak - before)} | ${roundsAfter - roundsBefore} |`,
      ``,
      `Outcomes: ${[...counts].map(([outcome, n]) => `${n} × ${outcome}`).join('; ')}.`,
      ``,
      `Limits: sign-in frames ≤ ${DEFAULT_LIMITS.maxSignInFrameBytes} bytes, refused on the frame header; ${DEFAULT_LIMITS.maxConnectionsPerIp} connections per address; ${DEFAULT_LIMITS.maxConnections} in all. ` +
        `Attackers from ${Math.min(connections, ATTACK_ADDRESSES)} loopback addresses; 3 honest Node workers (plain FedAvg, 2NN, 5 local steps a round) on 127.0.0.1.`,
    ].join('\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
