/**
 * Headless Chromium tabs as workers: `cohort demo --browser-workers M`, the browser tests and the
 * browser benchmark. Each tab gets its own browser context (its own IndexedDB, hence its own key
 * and reward address) and opens the worker page with its demo shard, e.g.
 * `/worker/?shard=3/5&autostart=1&wallet=tab`.
 *
 * @example
 * const tabs = await launchBrowserWorkers({ pageUrl: `${coordinator.httpUrl}/worker/`, count: 2, shards: [{ index: 1, count: 3 }, { index: 2, count: 3 }] });
 * …
 * await tabs.close();
 */
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'puppeteer';
import type { BrowserBackend } from './src/bridge.js';
import type { PageState } from './src/page/state.js';
import type { CohortPageApi } from './src/page/window-api.js';
import { launchChromium } from './chromium.js';

// page.evaluate's callbacks run inside the tab, where the page has set window.cohort. This module
// runs in Node and has no DOM types, so it names just that global.
declare const window: { cohort: CohortPageApi };

export interface LaunchBrowserWorkersOptions {
  /** The worker page, e.g. http://127.0.0.1:8080/worker/ */
  pageUrl: string;
  count: number;
  /** Demo shard per tab (default: tab i gets shard i of `count`). */
  shards?: ReadonlyArray<{ index: number; count: number }>;
  /** Backend per tab (undefined: measured); a single value applies to every tab. */
  forceBackend?: BrowserBackend | ReadonlyArray<BrowserBackend | undefined> | undefined;
  /** Local-step cap per tab (below the run's maxLocalSteps); a single value applies to every tab. */
  maxLocalSteps?: number | ReadonlyArray<number | undefined> | undefined;
  /** ws:// URL of the coordinator, when the page is served from elsewhere. */
  coordinatorUrl?: string | undefined;
  /** Join at once (default true). */
  autostart?: boolean;
  /** false: the tabs also join runs without secure aggregation (requireSecureAggregation=0); tabs refuse them by default. */
  requireSecureAggregation?: boolean;
  /** One line per console message, page error and failed request of tab `tab`. */
  log?: (tab: number, line: string) => void;
  /** Use an already launched browser (it is not closed by close()). */
  browser?: Browser;
}

export interface BrowserWorkers {
  readonly browser: Browser;
  readonly pages: Page[];
  /** Each tab's page state (window.cohort.state()); undefined for a closed tab. */
  states(): Promise<Array<PageState | undefined>>;
  /** Each tab's exported key file, as the page's Export button gives it; undefined where that failed. */
  exportKeys(onError?: (tab: number, error: unknown) => void): Promise<Array<string | undefined>>;
  /** Close one tab (the coordinator sees its socket close: an ordinary dropout). */
  closeTab(tab: number): Promise<void>;
  close(): Promise<void>;
}

function pick<T>(value: T | ReadonlyArray<T> | undefined, i: number): T | undefined {
  return Array.isArray(value) ? (value as ReadonlyArray<T>)[i] : (value as T | undefined);
}

/** The page URL for one tab. */
export function browserWorkerUrl(
  pageUrl: string,
  tab: { shard: { index: number; count: number }; backend?: BrowserBackend | undefined; maxLocalSteps?: number | undefined; coordinatorUrl?: string | undefined; autostart?: boolean; requireSecureAggregation?: boolean },
): string {
  const url = new URL(pageUrl);
  url.searchParams.set('shard', `${tab.shard.index}/${tab.shard.count}`);
  if (tab.autostart !== false) url.searchParams.set('autostart', '1');
  url.searchParams.set('wallet', 'tab');
  if (tab.backend) url.searchParams.set('backend', tab.backend);
  if (tab.maxLocalSteps !== undefined) url.searchParams.set('maxSteps', String(tab.maxLocalSteps));
  if (tab.coordinatorUrl) url.searchParams.set('coordinator', tab.coordinatorUrl);
  if (tab.requireSecureAggregation === false) url.searchParams.set('requireSecureAggregation', '0');
  return url.toString();
}

export async function launchBrowserWorkers(options: LaunchBrowserWorkersOptions): Promise<BrowserWorkers> {
  const log = options.log ?? (() => undefined);
  const ownBrowser = options.browser === undefined;
  const browser = options.browser ?? (await launchChromium({ log: (line) => log(-1, line) }));
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  const closed = new Set<number>();
  try {
    for (let i = 0; i < options.count; i++) {
      // A context per tab: separate IndexedDB, so every tab has its own key and address.
      const context = await browser.createBrowserContext();
      contexts.push(context);
      const page = await context.newPage();
      page.on('console', (message: ConsoleMessage) => log(i, `console.${message.type()}: ${message.text()}`));
      page.on('pageerror', (error: unknown) => log(i, `page error: ${error instanceof Error ? error.message : String(error)}`));
      page.on('workercreated', (worker) => worker.on('console', (message: ConsoleMessage) => log(i, `worker console.${message.type()}: ${message.text()}`)));
      page.on('requestfailed', (request) => log(i, `request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
      const url = browserWorkerUrl(options.pageUrl, {
        shard: options.shards?.[i] ?? { index: i, count: options.count },
        backend: pick(options.forceBackend, i),
        maxLocalSteps: pick(options.maxLocalSteps, i),
        coordinatorUrl: options.coordinatorUrl,
        autostart: options.autostart,
        requireSecureAggregation: options.requireSecureAggregation,
      });
      await page.goto(url, { waitUntil: 'load' });
      pages.push(page);
      log(i, `opened ${url}`);
    }
  } catch (error) {
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
    if (ownBrowser) await browser.close().catch(() => undefined);
    throw error;
  }

  return {
    browser,
    pages,
    async states() {
      return Promise.all(
        pages.map((page, i) => (closed.has(i) ? undefined : page.evaluate(() => window.cohort.state()).catch(() => undefined))),
      );
    },
    async exportKeys(onError) {
      return Promise.all(
        pages.map((page, i) =>
          closed.has(i)
            ? undefined
            : page.evaluate(() => window.cohort.exportKey()).catch((error: unknown) => {
                onError?.(i, error);
                return undefined;
              }),
        ),
      );
    },
    async closeTab(tab) {
      if (closed.has(tab)) return;
      closed.add(tab);
      await pages[tab]?.close();
    },
    async close() {
      await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
      if (ownBrowser) await browser.close().catch(() => undefined);
    },
  };
}
