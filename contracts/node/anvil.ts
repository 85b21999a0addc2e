/**
 * A local anvil dev chain, run from the npm package `@foundry-rs/anvil`, for `npm start`, tests and
 * benchmarks. Node only.
 *
 * The chain dies with us: anvil runs under a small `sh` guard that kills it as soon as our end of
 * its stdin pipe closes, which the kernel does however this process ends (even SIGKILL). `stop()`
 * uses the same path, so anvil always gets SIGTERM and, given `statePath`, dumps its state first.
 *
 * @example
 *   const chain = await startAnvil({ statePath: '.cohort/chain.json' });
 *   // ... use chain.rpcUrl and chain.privateKeys[0]
 *   await chain.stop();
 *   const again = await startAnvil({ statePath: '.cohort/chain.json', port: chain.port }); // same state
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { computeAddress } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';

/** anvil's default accounts: mnemonic "test test test test test test test test test test test junk". */
export const ANVIL_PRIVATE_KEYS: readonly string[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
];

export interface AnvilOptions {
  /** Interface to listen on. Default 127.0.0.1: a dev chain with funded well-known keys must stay local. */
  host?: string;
  /** Port; 0 (the default) lets the OS pick a free one. Pass a stopped chain's port to restart "in place". */
  port?: number;
  /** `--state PATH`: load the chain from PATH if it exists, and dump it there when anvil stops. */
  statePath?: string;
  /** Also dump the state every this many seconds (`--state-interval`), so a crash loses little. */
  stateIntervalS?: number;
  /** Default 31337. */
  chainId?: number;
  /** Seconds between blocks; default: a block per transaction (automine). */
  blockTimeS?: number;
  /** How long to wait for anvil to answer eth_chainId. Default 15 000 ms. */
  startTimeoutMs?: number;
  /** The anvil executable; default: env COHORT_ANVIL_BIN, then @foundry-rs/anvil's platform binary. */
  binaryPath?: string;
  /** Extra command-line arguments, passed last. */
  extraArgs?: readonly string[];
  /** Receives anvil's output, line by line; by default it is only kept for error messages. */
  onLog?: (line: string) => void;
}

export interface AnvilChain {
  readonly rpcUrl: string;
  readonly host: string;
  readonly port: number;
  readonly chainId: number;
  /** Addresses of the funded dev accounts (10 000 ETH each on a fresh chain). */
  readonly accounts: readonly string[];
  /** Their private keys; well known, so never use them outside a dev chain. */
  readonly privateKeys: readonly string[];
  readonly statePath: string | undefined;
  /** Whether anvil is still running. */
  readonly running: boolean;
  /** Stops anvil (SIGTERM, then SIGKILL after 5 s) and waits for it to exit, its state dumped. Idempotent. */
  stop(): Promise<void>;
}

const PLATFORM_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** Path of the anvil executable shipped by @foundry-rs/anvil for this platform. */
export function anvilBinaryPath(): string {
  const fromEnv = process.env['COHORT_ANVIL_BIN'];
  if (fromEnv) return fromEnv;
  const arch = PLATFORM_ARCH[process.arch];
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch ?? process.arch}`;
  try {
    const path = createRequire(import.meta.url).resolve(`${pkg}/bin/${exe}`);
    if (existsSync(path)) return path;
  } catch {
    // reported below
  }
  throw new CohortError('E_CHAIN_NODE', `anvil binary not found: install @foundry-rs/anvil (needs ${pkg}) or set COHORT_ANVIL_BIN`);
}

// Starts "$0" (anvil) with the remaining arguments; when stdin reaches EOF it sends anvil SIGTERM,
// then SIGKILL if it lingers; exits with anvil's status. The guard is its own process, so it acts
// even if this sh is killed. A background job's stdin is /dev/null unless redirected, hence fd 3.
const GUARD =
  'exec 3<&0; "$0" "$@" & pid=$!; ' +
  '{ read -r _ <&3; kill -TERM $pid 2>/dev/null; sleep 5; kill -KILL $pid 2>/dev/null; } & guard=$!; ' +
  'wait $pid; status=$?; kill $guard 2>/dev/null; exit $status';

/** Starts anvil and resolves once it answers JSON-RPC. */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilChain> {
  const host = options.host ?? '127.0.0.1';
  const args = ['--host', host, '--port', String(options.port ?? 0)];
  if (options.chainId !== undefined) args.push('--chain-id', String(options.chainId));
  if (options.blockTimeS !== undefined) args.push('--block-time', String(options.blockTimeS));
  if (options.statePath !== undefined) args.push('--state', options.statePath);
  if (options.stateIntervalS !== undefined) args.push('--state-interval', String(options.stateIntervalS));
  args.push(...(options.extraArgs ?? []));
  const binary = options.binaryPath ?? anvilBinaryPath();

  const guarded = process.platform !== 'win32';
  const child = guarded
    ? spawn('sh', ['-c', GUARD, binary, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  if (!guarded) killOnExit.add(child);

  const tail: string[] = [];
  let onListening: ((port: number) => void) | undefined;
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      options.onLog?.(line);
      const m = /Listening on .*:(\d+)\s*$/.exec(line);
      if (m?.[1] !== undefined) onListening?.(Number(m[1]));
    }
  };
  child.stdout.on('data', collect); // always drained: a full pipe would stall anvil
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
    killOnExit.delete(child);
  });

  const failure = (why: string): CohortError =>
    new CohortError('E_CHAIN_NODE', `anvil ${why}\n${tail.slice(-10).join('\n')}`, { details: { args } });

  const timeoutMs = options.startTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await Promise.race([
      new Promise<number>((resolve) => (onListening = resolve)),
      exited.then((code) => Promise.reject(failure(`exited with code ${code} before listening`))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(failure(`did not start in ${timeoutMs} ms`)), timeoutMs))),
      new Promise<never>((_, reject) => child.once('error', (err) => reject(failure(`could not be spawned: ${err.message}`)))),
    ]);
    const rpcUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const chainId = await waitForRpc(rpcUrl, timeoutMs, () => running);
    const privateKeys = ANVIL_PRIVATE_KEYS;
    const stop = makeStop(child, exited, () => running);
    return {
      rpcUrl,
      host,
      port,
      chainId,
      accounts: privateKeys.map((k) => computeAddress(k)),
      privateKeys,
      statePath: options.statePath,
      get running() {
        return running;
      },
      stop,
    };
  } catch (err) {
    child.stdin.end(); // the guard then kills anvil
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function makeStop(child: ChildProcess, exited: Promise<number | null>, isRunning: () => boolean): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (!isRunning()) return;
      // Closing stdin makes the guard send SIGTERM; anvil then dumps its state and exits.
      if (child.stdin && !child.stdin.destroyed) child.stdin.end();
      else child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 8_000);
      });
      await Promise.race([exited.then(() => undefined), killed]);
      clearTimeout(timer);
    })();
    return stopping;
  };
}

/** Polls eth_chainId until it answers; returns the chain id. */
async function waitForRpc(rpcUrl: string, timeoutMs: number, alive: () => boolean): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && alive()) {
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(1_000),
      });
      const body = (await res.json()) as { result?: string };
      if (typeof body.result === 'string') return Number(BigInt(body.result));
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new CohortError('E_CHAIN_UNAVAILABLE', `anvil at ${rpcUrl} did not answer eth_chainId`, { cause: lastError });
}

// Without the sh guard (Windows) the best we can do is kill anvil on a normal exit.
const killOnExit = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of killOnExit) child.kill('SIGKILL');
});
