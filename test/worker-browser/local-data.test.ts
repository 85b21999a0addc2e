/**
 * The volunteer's own data: picked files (PNG images in label folders, a CSV in the run's schema)
 * are parsed in the browser, land in IndexedDB, and the tab trains on them, while nothing the tab
 * sends (HTTP bodies or WebSocket frames, from the page or its workers) carries them.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, ElementHandle, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../worker-browser/chromium.js';
import { digitsCsv, mnistDigits, writePngFolders, type Digits } from './files.js';
import { browserTestConfig, PREPARE_TIMEOUT_MS, prepareBrowserTests, scratchDir, startTestCoordinator, waitForState, watchConsole, type TestCoordinator } from './helpers.js';
import { findInTraffic, watchTraffic } from './network.js';

const PNG_COUNT = 20;
const CSV_COUNT = 300;

/** Reads the stored examples back out of the page's IndexedDB. */
function storedExamples(page: Page): Promise<{ labels: number[]; pixels: number[]; summary: { examples: number; perLabel: number[] } } | undefined> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('cohort-worker');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const get = (key: string): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const request = db.transaction('datasets').objectStore('datasets').get(key);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    const data = (await get('local')) as { labels: Uint8Array; pixels: Uint8Array } | undefined;
    const summary = (await get('local-summary')) as { examples: number; perLabel: number[] };
    db.close();
    return data ? { labels: [...data.labels], pixels: [...data.pixels], summary } : undefined;
  });
}

async function pick(page: Page, selector: string, ...paths: string[]): Promise<string> {
  const input = (await page.$(selector)) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(...paths);
  await page.waitForFunction(() => /^(Stored|Could not)/.test(document.getElementById('import-status')?.textContent ?? ''), { timeout: 30_000 });
  return page.$eval('#import-status', (el) => el.textContent ?? '');
}

/** A run of pixels from the middle of a digit (where the strokes are): distinctive bytes. */
function signatures(digits: Digits): Buffer[] {
  const out: Buffer[] = [];
  for (const i of [0, Math.floor(digits.count / 2), digits.count - 1]) {
    const stroke = digits.pixels.subarray(i * 784 + 150, i * 784 + 450);
    out.push(Buffer.from(stroke)); // raw bytes, as stored
    out.push(Buffer.from(new Float32Array(Array.from(stroke, (v) => v / 255)).buffer)); // as a batch tensor
    out.push(Buffer.from(Array.from(stroke).join(','))); // as CSV text
  }
  return out;
}

describe('files a volunteer picks', () => {
  let server: TestCoordinator;
  let browser: Browser | undefined;
  const dir = scratchDir('cohort-picked-');

  beforeAll(prepareBrowserTests, PREPARE_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are parsed in the tab, kept in IndexedDB, trained on, and never uploaded', async () => {
    // Prepare
    const pngDigits = mnistDigits(PNG_COUNT, 1_000);
    const csvDigits = mnistDigits(CSV_COUNT, 2_000);
    const pngRoot = join(dir, 'digits');
    writePngFolders(pngRoot, pngDigits);
    const csvFile = join(dir, 'digits.csv');
    writeFileSync(csvFile, digitsCsv(csvDigits));
    server = await startTestCoordinator(browserTestConfig({ rounds: 1, minClients: 1, maxLocalSteps: 100 }));
    browser = await launchChromium();
    const page = await (await browser.createBrowserContext()).newPage();
    const errors = watchConsole(page);
    const traffic = await watchTraffic(page);
    const url = new URL(server.pageUrl);
    url.searchParams.set('wallet', 'tab');
    url.searchParams.set('requireSecureAggregation', '0'); // a plain run: tabs refuse those by default
    if (server.coordinatorUrl) url.searchParams.set('coordinator', server.coordinatorUrl);
    await page.goto(url.toString());
    await page.evaluate(() => window.cohort.ready);

    // Execute + assert: a folder of PNGs, one sub-folder per label
    expect(await pick(page, '#pick-folder', pngRoot)).toBe(`Stored ${PNG_COUNT} examples in this browser. Nothing was uploaded.`);
    const fromPng = await storedExamples(page);
    expect(fromPng?.labels.slice().sort()).toEqual([...pngDigits.labels].sort());
    // Each stored image is one of the originals, with its label, to the pixel.
    for (let i = 0; i < PNG_COUNT; i++) {
      const stored = fromPng!.pixels.slice(i * 784, (i + 1) * 784);
      const match = [...Array(PNG_COUNT).keys()].find(
        (j) => pngDigits.labels[j] === fromPng!.labels[i] && stored.every((v, k) => Math.abs(v - pngDigits.pixels[j * 784 + k]!) <= 1),
      );
      expect(match, `stored image ${i}`).toBeDefined();
    }

    // Execute + assert: a CSV in the run's schema replaces them
    expect(await pick(page, '#pick-csv', csvFile)).toBe(`Stored ${CSV_COUNT} examples in this browser. Nothing was uploaded.`);
    const fromCsv = await storedExamples(page);
    expect(fromCsv?.labels).toEqual([...csvDigits.labels]);
    expect(fromCsv?.pixels).toEqual([...csvDigits.pixels]);
    expect(fromCsv?.summary.perLabel.reduce((a, b) => a + b, 0)).toBe(CSV_COUNT);

    // Execute: join and train on them
    await page.click('#join');
    const summary = await server.coordinator.done;
    const state = await waitForState(page, (s) => s.connection === 'run ended' && !s.joined);
    await traffic.settle();

    // Assert: trained on the local examples
    expect(summary.status, summary.reason).toBe('completed');
    expect(state.data).toEqual({ source: 'local', examples: CSV_COUNT });
    expect(state.examplesTrained).toBe(CSV_COUNT);
    expect(summary.workers[0]?.examples).toBe(CSV_COUNT);

    // Assert: the capture works (it saw the protocol, weight update included)…
    expect(traffic.frames.some((f) => f.includes(Buffer.from('hello')))).toBe(true);
    expect(traffic.frames.some((f) => f.includes(Buffer.from('update')) && f.byteLength > 100_000)).toBe(true);
    // …and nothing sent carries the examples, nor asks for demo data.
    for (const needle of [...signatures(pngDigits), ...signatures(csvDigits)]) expect(findInTraffic(traffic, needle)).toEqual([]);
    expect(traffic.requests.filter((r) => r.body.byteLength > 0)).toEqual([]);
    expect(traffic.requests.filter((r) => r.url.includes('demo-data'))).toEqual([]);
    expect(errors).toEqual([]);
  }, 90_000);
});
