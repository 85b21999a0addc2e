/**
 * `cohort serve`: a long-running coordinator. It resumes the store's unfinished run, or starts a
 * new one, serves workers until the run ends, and exits cleanly on SIGTERM/SIGINT.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type WireLimits } from '../../core/protocol/limits.js';
import type { RunConfig } from '../engine/run-config.js';
import type { LedgerConfig } from '../ledger/ledger-config.js';
import { createLogger, type LogFormat, type LogLevel } from '../log.js';
import { startCoordinator } from '../app/start-coordinator.js';
import { LocalWorkers } from './local-workers.js';
import { ProgressBar, trackRounds } from './progress-bar.js';
import { formatEvent } from './progress.js';

export interface ServeOptions {
  host: string;
  port: number;
  storePath: string;
  config: RunConfig;
  tls?: { certFile: string; keyFile: string } | undefined;
  /** --public-url: where workers reach this coordinator (default: what it listens on). */
  publicUrls?: string[] | undefined;
  localWorkers: number;
  limits: Partial<WireLimits>;
  json: boolean;
  logFormat: LogFormat;
  logLevel: LogLevel;
  adminTokenFile?: string | undefined;
  /** Record rewards on this chain (--rpc-url …); undefined records nothing. */
  ledger?: LedgerConfig | undefined;
}

export async function runServe(options: ServeOptions): Promise<number> {
  const out = options.json ? process.stderr : process.stdout;
  const bar = new ProgressBar({ total: options.config.rounds, label: 'rounds', stream: out, enabled: !options.json && out.isTTY === true && options.logFormat === 'pretty' });
  const print = (line: string): void => bar.log(line);
  const logger = createLogger({ format: options.logFormat, level: options.logLevel, stream: bar.enabled ? bar.above(process.stderr) : undefined });
  const coordinator = await startCoordinator({
    host: options.host,
    port: options.port,
    storePath: options.storePath,
    config: options.config,
    tls: options.tls,
    publicUrls: options.publicUrls,
    // Local workers connect from loopback: they get their own slots beside the per-address share.
    limits: { ...options.limits, maxConnectionsPerIp: (options.limits.maxConnectionsPerIp ?? DEFAULT_LIMITS.maxConnectionsPerIp) + options.localWorkers },
    log: logger.log,
    adminTokenFile: options.adminTokenFile,
    ledger: options.ledger ? { config: options.ledger } : undefined,
  });
  trackRounds(coordinator.engine, bar);
  coordinator.engine.on((event) => {
    const line = formatEvent(event, options.config.rounds);
    if (line) print(line);
  });
  print(`coordinator: ${coordinator.httpUrl}   workers connect to: ${options.publicUrls ? coordinator.publicUrls[0] : coordinator.wsUrl}`);
  print(`dashboard: ${coordinator.dashboardUrl}   (admin token in ${coordinator.adminTokenFile})`);
  print(`health: ${coordinator.httpUrl}/healthz   metrics: ${coordinator.httpUrl}/metrics   run store: ${options.storePath}`);
  if (coordinator.resumedAfterRound > 0) {
    print(`run ${coordinator.engine.runId}: resuming after round ${coordinator.resumedAfterRound} from the run store`);
  }

  const workers = new LocalWorkers((i, line) => process.stderr.write(`[worker ${i}] ${line}\n`));
  if (options.localWorkers > 0) {
    const keyDir = mkdtempSync(join(tmpdir(), 'cohort-keys-'));
    workers.start(
      Array.from({ length: options.localWorkers }, (_, i) => ({
        // They sign the URL they dial, so with --public-url they dial the first public URL.
        coordinator: options.publicUrls ? coordinator.publicUrls[0]! : coordinator.wsUrl,
        keyFile: join(keyDir, `worker-${i}.key`),
        shard: { index: i, count: options.localWorkers },
      })),
    );
  }
  process.once('exit', () => workers.killAllNow());

  const interrupted = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const outcome = await Promise.race([coordinator.done.then((summary) => ({ summary })), interrupted.then((signal) => ({ signal }))]);
  if ('signal' in outcome) print(`received ${outcome.signal}; shutting down`);
  bar.finish();
  await coordinator.close();
  await workers.stop();
  if ('summary' in outcome && options.json) process.stdout.write(`${JSON.stringify(outcome.summary)}\n`);
  return 'summary' in outcome && outcome.summary.status === 'failed' ? 1 : 0;
}
