/**
 * Attack: forged log lines (issue 13, point 8). A signed-in worker reports an error whose message
 * holds a newline, a fake log line after it, and ANSI escape codes; the coordinator's pretty log
 * used to print it as it came, so the operator saw a line the coordinator never wrote.
 *
 * Against a real coordinator over a real WebSocket, logging in the pretty format to a captured
 * stream: the worker's text stays on its one line, escaped, and no escape code reaches the stream.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { createLogger } from '../../coordinator/log.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { eventually, scratchDir } from '../e2e/helpers.js';
import { WireClient } from '../e2e/wire-client.js';

const FORGED = '12:00:00.000 INFO  worker 0x000000000000000000000000000000000000dEaD (node) signed in';

describe('log injection through a worker’s error message', () => {
  let dir: string;
  let coordinator: Coordinator;
  let written = '';

  beforeAll(async () => {
    dir = scratchDir();
    const logger = createLogger({ format: 'pretty', level: 'debug', color: false, stream: { write: (text: string) => (written += text) } });
    coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'store.sqlite'),
      log: logger.log,
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 1,
        minClients: 2,
        roundTimeoutMs: 60_000,
        maxRoundRetries: 1,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'adam',
        lr: 0.001,
        maxLocalSteps: 5,
        partition: { kind: 'iid', seed: 1 },
        seed: 1,
        evaluation: 'none',
        keepCheckpoints: 1,
        secureAggregation: false,
      }),
    });
  });

  afterAll(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a reported message with a newline, a fake line and ANSI codes on one escaped line', async () => {
    const worker = new WireClient(coordinator.wsUrl);
    await worker.signIn();
    worker.send({ type: 'error', code: 'E_INTERNAL', message: `disk full\n${FORGED}\r\x1b[2J\x1b[31mred\u2028next` });
    const line = await eventually(() => written.split('\n').find((l) => l.includes('reported E_INTERNAL')));
    worker.close();

    expect(line).toContain(`disk full\\n${FORGED}\\r\\x1b[2J\\x1b[31mred\\u2028next`);
    expect(written.split('\n').some((l) => l.startsWith(FORGED))).toBe(false);
    expect(written).not.toContain('\x1b');
    expect(written).not.toContain('\r');
    expect(written).not.toContain('\u2028');
  });
});
