/**
 * `cohort serve`: a long-running coordinator. It resumes the store's unfinished run, or starts a
 * new one, serves workers until the run ends, and exits cleanly on SIGTERM/SIGINT.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WireLimits } from '../../core/protocol/limits.js';
import type { RunConfig } from '../engine/run-config.js';
import { startCoordinator, type Logger } from '../server/coordinator.js';
import { LocalWorkers } from './local-workers.js';
import { formatEvent } from './progress.js';

export interface ServeOptions {
  host: string;
  port: number;
  storePath: string;
  config: RunConfig;
  tls?: { certFile: string; keyFile: string } | undefined;
  localWorkers: number;
  limits: Partial<WireLimits>;
  json: boolean;
}

export async function runServe(options: ServeOptions): Promise<number> {
  const print = (line: string): void => {
    (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  };
  const log: Logger = (level, message) => {
    if (level !== 'debug') process.stderr.write(`[${level}] ${message}\n`);
  };
  const coordinator = await startCoordinator({
    host: options.host,
    port: options.port,
    storePath: options.storePath,
    config: options.config,
    tls: options.tls,
    limits: options.limits,
    log,
  });
  coordinator.engine.on((event) => {
    const line = formatEvent(event, options.config.rounds);
    if (line) print(line);
  });
  print(`coordinator: ${coordinator.httpUrl}   workers connect to: ${coordinator.wsUrl}`);
  print(`health: ${coordinator.httpUrl}/healthz   run store: ${options.storePath}`);
  if (coordinator.resumedAfterRound > 0) {
    print(`run ${coordinator.engine.runId}: resuming after round ${coordinator.resumedAfterRound} from the run store`);
  }

  const workers = new LocalWorkers((i, line) => process.stderr.write(`[worker ${i}] ${line}\n`));
  if (options.localWorkers > 0) {
    const keyDir = mkdtempSync(join(tmpdir(), 'cohort-keys-'));
    workers.start(
      Array.from({ length: options.localWorkers }, (_, i) => ({
        coordinator: coordinator.wsUrl,
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
  await coordinator.close();
  await workers.stop();
  if ('summary' in outcome && options.json) process.stdout.write(`${JSON.stringify(outcome.summary)}\n`);
  return 'summary' in outcome && outcome.summary.status === 'failed' ? 1 : 0;
}
