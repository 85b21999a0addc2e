/**
 * `cohort demo`: the embedded default. Everything on 127.0.0.1 with free ports: a coordinator with
 * a fresh run store, and N Node workers, each holding its own MNIST shard. Prints one progress line
 * per round, or with --json a single JSON summary on stdout (logs go to stderr).
 *
 * It lives in bin/, the composition layer, because it assembles every wing: the coordinator, Node
 * worker processes, browser tabs (worker-browser/launch.ts) and the demo chain.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatEther } from 'ethers';
import type { RunConfig } from '../coordinator/engine/run-config.js';
import type { RunSummary } from '../coordinator/engine/run-engine.js';
import { launchBrowserWorkers, type BrowserWorkers } from '../worker-browser/launch.js';
import { createLogger, type LogFormat } from '../coordinator/log.js';
import { finishDemoChain, startDemoChain, type DemoChainOptions, type DemoChainSummary } from '../coordinator/ledger/demo-chain.js';
import { DEFAULT_LIMITS } from '../core/protocol/limits.js';
import { startCoordinator } from '../coordinator/app/start-coordinator.js';
import { LocalWorkers } from '../coordinator/cli/local-workers.js';
import { formatEvent } from '../coordinator/cli/progress.js';

export interface DemoOptions {
  workers: number;
  /** Headless Chromium tabs that join as browser workers, beside the Node workers. */
  browserWorkers: number;
  config: RunConfig;
  storePath?: string | undefined;
  json: boolean;
  verbose: boolean;
  backend?: string | undefined;
  port: number;
  /** The demo's chain: its own anvil by default, a real network with `network`; false for none. */
  chain?: Omit<DemoChainOptions, 'rounds'> | false | undefined;
  logFormat: LogFormat;
}

export interface DemoSummary {
  rounds: number;
  accuracy: number | null;
  loss: number | null;
  secureAggregation: boolean;
  workers: Array<{ id: string; kind: 'node' | 'browser'; backend: string; roundsParticipated: number; examples: number }>;
  elapsedMs: number;
  status: RunSummary['status'];
  reason: string;
  runId: string;
  chain?: DemoChainSummary | undefined;
}

type Print = (line: string) => void;
type Coordinator = Awaited<ReturnType<typeof startCoordinator>>;

export async function runDemo(options: DemoOptions): Promise<number> {
  const started = Date.now();
  const out = options.json ? process.stderr : process.stdout;
  const print: Print = (line) => void out.write(`${line}\n`);
  const scratch = mkdtempSync(join(tmpdir(), 'cohort-demo-'));
  const storePath = options.storePath ?? join(scratch, 'run.sqlite');

  const chain = options.chain === false ? undefined : await startDemoChain({ ...options.chain, rounds: options.config.rounds });
  const coordinator = await startCoordinator({
    ledger: chain ? { config: chain.config, privateKey: chain.coordinatorKey } : undefined,
    host: '127.0.0.1',
    port: options.port,
    storePath,
    config: options.config,
    // Every demo worker and tab connects from loopback: they get slots beside the per-address share.
    limits: { maxConnectionsPerIp: DEFAULT_LIMITS.maxConnectionsPerIp + options.workers + options.browserWorkers },
    log: createLogger({ format: options.logFormat, level: options.verbose ? 'debug' : 'warn' }).log,
  });
  const workers = new LocalWorkers((i, line) => {
    if (options.verbose) process.stderr.write(`[worker ${i}] ${line}\n`);
  });
  const cleanup = (): void => workers.killAllNow();
  process.once('exit', cleanup);
  const interrupted = new Promise<'interrupted'>((resolve) => {
    process.once('SIGINT', () => resolve('interrupted'));
    process.once('SIGTERM', () => resolve('interrupted'));
  });

  printBanner(options, coordinator, storePath, print);
  const keyFiles = Array.from({ length: options.workers }, (_, i) => join(scratch, `worker-${i}.key`));
  const tabs = await startDemoWorkers(options, coordinator, workers, keyFiles);

  const outcome = await Promise.race([coordinator.done, interrupted]);
  if (outcome === 'interrupted') {
    print('interrupted; stopping the coordinator and workers');
    await tabs?.close();
    await coordinator.close();
    await workers.stop();
    await chain?.stop();
    process.off('exit', cleanup);
    rmSync(scratch, { recursive: true, force: true });
    return 130;
  }
  const summary = outcome;
  // Workers leave by themselves on run-end; anything still running after a grace period is stopped.
  if (!(await workers.waitForExit(10_000))) await workers.stop();
  // Each tab exports its key, as a volunteer would with the page's Export button, to claim below.
  const tabKeys = tabs ? await tabs.exportKeys((tab, error) => process.stderr.write(`tab ${tab} key export failed: ${String(error)}\n`)) : [];
  await tabs?.close();
  // Every worker claims with its own key once the outbox is on chain; then the chain stops.
  const chainSummary = chain
    ? await finishDemoChain({ chain, ledger: coordinator.ledger, workerKeys: [...keyFiles.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')), ...tabKeys.filter((k): k is string => typeof k === 'string')] })
    : undefined;
  await coordinator.close();
  process.off('exit', cleanup);

  const result = demoSummary(summary, Date.now() - started, chainSummary);
  if (!options.storePath) rmSync(scratch, { recursive: true, force: true });
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else printResult(result, print);
  return summary.status === 'failed' ? 1 : 0;
}

function printBanner(options: DemoOptions, coordinator: Coordinator, storePath: string, print: Print): void {
  const tabsNote = options.browserWorkers > 0 ? ` and ${options.browserWorkers} browser tabs` : '';
  print(`Cohort demo: ${options.workers} Node workers${tabsNote} train McMahan's ${options.config.model.kind === 'builtin' ? options.config.model.name.toUpperCase() : 'custom'} model on MNIST (${options.config.partition.kind} split), federated over WebSockets.`);
  print(`  coordinator  ${coordinator.httpUrl}   (health: ${coordinator.httpUrl}/healthz, run status: ${coordinator.httpUrl}/api/run)`);
  print(`  dashboard    ${coordinator.dashboardUrl}   (metrics: ${coordinator.httpUrl}/metrics)`);
  print(`  workers      connect to ${coordinator.wsUrl}`);
  print(`  worker page  ${coordinator.workerPageUrl}   (open it in a browser tab to join with your GPU)`);
  print(`  run store    ${storePath}`);
  coordinator.engine.on((event) => {
    if (event.type === 'worker-ready' || event.type === 'worker-left') {
      if (options.verbose) print(formatEvent(event, options.config.rounds) ?? '');
      return;
    }
    const line = formatEvent(event, options.config.rounds);
    if (line) print(line);
  });
}

/** Starts the Node worker processes and, with --browser-workers, the Chromium tabs after them. */
async function startDemoWorkers(options: DemoOptions, coordinator: Coordinator, workers: LocalWorkers, keyFiles: string[]): Promise<BrowserWorkers | undefined> {
  const total = options.workers + options.browserWorkers;
  workers.start(
    Array.from({ length: options.workers }, (_, i) => ({
      coordinator: coordinator.wsUrl,
      keyFile: keyFiles[i] ?? '',
      shard: { index: i, count: total },
      backend: options.backend,
    })),
  );
  // Browser tabs take the shards after the Node workers'; their keys live in each tab's IndexedDB.
  if (options.browserWorkers === 0) return undefined;
  return launchBrowserWorkers({
    pageUrl: coordinator.workerPageUrl,
    count: options.browserWorkers,
    shards: Array.from({ length: options.browserWorkers }, (_, j) => ({ index: options.workers + j, count: total })),
    // Tabs refuse plain runs by default; the demo's own run is what it asked for.
    requireSecureAggregation: options.config.secureAggregation !== false,
    log: (tab, line) => {
      if (options.verbose) process.stderr.write(`[tab ${tab}] ${line}\n`);
    },
  });
}

function demoSummary(summary: RunSummary, elapsedMs: number, chainSummary: DemoChainSummary | undefined): DemoSummary {
  return {
    rounds: summary.rounds,
    accuracy: summary.accuracy,
    loss: summary.loss,
    secureAggregation: summary.secureAggregation,
    workers: summary.workers.map((w) => ({
      id: w.address,
      kind: w.kind,
      backend: w.backend,
      roundsParticipated: w.roundsParticipated,
      examples: w.examples,
    })),
    elapsedMs,
    status: summary.status,
    reason: summary.reason,
    runId: summary.runId,
    ...(chainSummary ? { chain: chainSummary } : {}),
  };
}

function printResult(result: DemoSummary, print: Print): void {
  const acc = result.accuracy === null ? 'n/a' : `${(result.accuracy * 100).toFixed(2)}%`;
  print('');
  print(`Done in ${(result.elapsedMs / 1000).toFixed(1)} s: ${result.rounds} rounds, test accuracy ${acc} (${result.reason}).`);
  for (const w of result.workers) print(`  ${w.id}  ${w.kind}  ${w.backend.padEnd(6)}  rounds ${w.roundsParticipated}  examples ${w.examples}`);
  if (result.chain) {
    const c = result.chain;
    print(`Ledger ${c.ledger} on chain ${c.chainId}: ${c.roundsRecorded} rounds recorded, ${formatEther(c.allocated)} of ${formatEther(c.funded)} ETH allocated; every worker claimed:`);
    for (const [address, wei] of Object.entries(c.claimed)) print(`  ${address}  ${formatEther(wei)} ETH`);
  }
  print('Next: `cohort serve` runs a coordinator for real workers; `cohort worker --coordinator URL --key FILE` joins one. See README.md.');
}
