/**
 * Helpers for the browser tests: real headless Chromium (worker-browser/chromium.ts finds or
 * installs it), a real coordinator on 127.0.0.1, and the worker page built from source.
 */
import { existsSync, mkdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleMessage, Page } from 'puppeteer';
import { parseRunConfig, type RunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { HttpRoutes } from '../../coordinator/server/http.js';
import { registerWorkerPageRoutes } from '../../coordinator/server/worker-page.js';
import { buildWorkerPage, isWorkerPageStale } from '../../worker-browser/build.mjs';
import { findChromium } from '../../worker-browser/chromium.js';
import type { PageState } from '../../worker-browser/src/page/state.js';
import { eventually, scratchDir } from '../e2e/helpers.js';

export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts', import.meta.url));

/**
 * Builds worker-browser/dist when its sources changed. Test files run in parallel processes, so a
 * directory lock makes one of them build while the others wait.
 */
export async function ensureWorkerPageBuilt(): Promise<void> {
  const lock = join(tmpdir(), 'cohort-worker-page-build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than two minutes belongs to a process that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (isWorkerPageStale()) await buildWorkerPage({ log: () => undefined });
  } finally {
    rmdirSync(lock);
  }
}

/**
 * For a browser test file's beforeAll: the page built from source, and Chromium found (on a fresh
 * Debian machine, installed with apt: about a minute, hence the hook's own timeout).
 */
export async function prepareBrowserTests(): Promise<void> {
  await findChromium();
  await ensureWorkerPageBuilt();
}

/** beforeAll timeout for prepareBrowserTests (an apt install of Chromium included). */
export const PREPARE_TIMEOUT_MS = 300_000;

export const browserTestConfig = (overrides: Partial<RunConfig> = {}): RunConfig =>
  parseRunConfig({
    model: { kind: 'builtin', name: '2nn' },
    rounds: 2,
    minClients: 2,
    roundTimeoutMs: 120_000,
    maxRoundRetries: 1,
    localEpochs: 1,
    batchSize: 32,
    optimizer: 'adam',
    lr: 0.001,
    maxLocalSteps: 20,
    partition: { kind: 'iid', seed: 7 },
    seed: 7,
    evaluation: 'mnist',
    keepCheckpoints: 2,
    // Plain FedAvg unless a test asks for SecAgg+ (it needs at least 3 workers per round).
    secureAggregation: false,
    ...overrides,
  });

export interface TestCoordinator {
  coordinator: Coordinator;
  /** The worker page, e.g. http://127.0.0.1:PORT/worker/ */
  pageUrl: string;
  /** Set when the page is not served by the coordinator itself (see below): pass it to the tabs. */
  coordinatorUrl: string | undefined;
  close(): Promise<void>;
}

/**
 * A coordinator with a temporary store. The page is expected at the coordinator's /worker/
 * (startCoordinator calls registerWorkerPageRoutes). Until that is wired, the same routes are served
 * by a side server here and the tabs are pointed at the coordinator with ?coordinator=.
 */
export async function startTestCoordinator(config: RunConfig, options: { publicUrls?: string[] } = {}): Promise<TestCoordinator> {
  const dir = scratchDir('cohort-browser-');
  const coordinator = await startCoordinator({ host: '127.0.0.1', port: 0, storePath: join(dir, 'run.sqlite'), config, publicUrls: options.publicUrls });
  const served = await fetch(`${coordinator.httpUrl}/worker/`).then((r) => r.status, () => 0);
  let side: Server | undefined;
  let pageUrl = `${coordinator.httpUrl}/worker/`;
  if (served !== 200) {
    const routes = registerWorkerPageRoutes(new HttpRoutes(), { partitionFor: () => config.partition });
    side = createServer(routes.handle);
    await new Promise<void>((resolve) => side!.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(side.address() as AddressInfo).port}/worker/`;
  }
  return {
    coordinator,
    pageUrl,
    coordinatorUrl: side ? coordinator.wsUrl : undefined,
    async close() {
      await coordinator.close();
      if (side) {
        side.closeAllConnections();
        await new Promise<void>((resolve) => side!.close(() => resolve()));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught page errors of a page, collected from the moment it is attached. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error: unknown) => errors.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
  return errors;
}

export function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => window.cohort.state());
}

/** Waits until the tab's state satisfies `predicate`; the error shows the last state seen. */
export async function waitForState(page: Page, predicate: (state: PageState) => boolean, timeoutMs = 60_000): Promise<PageState> {
  let last: PageState | undefined;
  try {
    return await eventually(async () => {
      last = await pageState(page);
      return predicate(last) ? last : undefined;
    }, timeoutMs, 250);
  } catch (error) {
    throw new Error(`${String(error)}\nlast page state: ${JSON.stringify({ ...last, log: last?.log.slice(-12) }, null, 1)}`);
  }
}

export { eventually, scratchDir };
