/**
 * `npm run bench -- browser`: training steps per second of McMahan's 2NN and CNN on each tfjs
 * backend in headless Chromium, batch 32, measured inside the worker page's Web Worker with the
 * same training step the tabs run (worker-browser/src/worker/bench.ts). The CNN gets one timed
 * step per backend: on a GPU-less machine one step takes 10–30 s on webgpu, webgl and cpu.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'puppeteer';
import { HttpRoutes } from '../coordinator/server/http.js';
import { registerWorkerPageRoutes } from '../coordinator/server/worker-page.js';
import { BROWSER_BACKENDS, type BenchmarkRow, type BrowserBackend } from '../worker-browser/src/bridge.js';
import { buildWorkerPage, isWorkerPageStale } from '../worker-browser/build.mjs';
import { launchChromium } from '../worker-browser/chromium.js';

const STEPS = { '2nn': 10, cnn: 1 } as const;

export async function run(): Promise<string> {
  if (isWorkerPageStale()) await buildWorkerPage();
  const server = createServer(registerWorkerPageRoutes(new HttpRoutes()).handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await launchChromium({ protocolTimeout: 600_000 });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/worker/?wallet=tab`);
    await page.evaluate(() => window.cohort.ready);
    const adapter = await page.evaluate(() => window.cohort.state().adapter);
    const rows: BenchmarkRow[] = [];
    for (const model of ['2nn', 'cnn'] as const) {
      for (const backend of BROWSER_BACKENDS) {
        // One request per cell, in one long-lived Web Worker, so no single evaluate runs for minutes.
        const [row] = await benchmarkCell(page, model, backend, STEPS[model]);
        if (row) rows.push(row);
        process.stderr.write(`browser bench: ${model} ${backend}: ${row?.stepsPerSecond?.toFixed(3) ?? row?.note}\n`);
      }
    }
    const version = await browser.version();
    return table(rows, `${version}, WebGPU adapter: ${adapter ? `${adapter.vendor} ${adapter.architecture}${adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}` : 'none'}`);
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
}

/**
 * Runs in the page: asks the (one, reused) benchmark Web Worker for one cell. A string, not a
 * function: tsx's transform would wrap a function's inner names in a helper the page lacks.
 */
const BENCHMARK_IN_WORKER = `(model, backend, steps) => {
  window.benchWorker ??= new Worker(new URL('./worker.js', location.href), { type: 'module', name: 'cohort-bench' });
  const worker = window.benchWorker;
  const id = Math.floor(Math.random() * 1e9);
  return new Promise((resolve) => {
    const onMessage = (event) => {
      if (event.data.type !== 'benchmark-result' || event.data.id !== id) return;
      worker.removeEventListener('message', onMessage);
      resolve(event.data.rows);
    };
    worker.addEventListener('message', onMessage);
    worker.postMessage({ type: 'benchmark', id, models: [model], backends: [backend], steps: { [model]: steps }, wasmPaths: new URL('./tfjs-wasm/', location.href).href });
  });
}`;

async function benchmarkCell(page: Page, model: '2nn' | 'cnn', backend: BrowserBackend, steps: number): Promise<BenchmarkRow[]> {
  const fn = await page.evaluateHandle(BENCHMARK_IN_WORKER);
  try {
    return (await page.evaluate((f, ...args) => (f as unknown as (...a: unknown[]) => Promise<BenchmarkRow[]>)(...args), fn, model, backend, steps)) ?? [];
  } finally {
    await fn.dispose();
  }
}

function table(rows: BenchmarkRow[], machine: string): string {
  const cell = (model: string, backend: string): string => {
    const row = rows.find((r) => r.model === model && r.backend === backend);
    if (!row) return '–';
    if (row.stepsPerSecond === null) return `fails: ${row.note.replace(/\|/g, '\\|').slice(0, 80)}`;
    const rate = row.stepsPerSecond;
    return `${rate >= 10 ? rate.toFixed(1) : rate.toFixed(3)} (${(1000 / rate).toFixed(0)} ms/step)`;
  };
  const lines = [
    `Chromium: ${machine}. Batch 32, Adam; one untimed warm-up step, then ${STEPS['2nn']} timed steps (2NN) or ${STEPS.cnn} (CNN). The Conv2D filter-gradient fix is registered, so wasm trains the CNN.`,
    '',
    `| model | ${BROWSER_BACKENDS.join(' | ')} |`,
    `|---|${BROWSER_BACKENDS.map(() => '---').join('|')}|`,
    `| 2NN (199k params), steps/s | ${BROWSER_BACKENDS.map((b) => cell('2nn', b)).join(' | ')} |`,
    `| CNN (1.66M params), steps/s | ${BROWSER_BACKENDS.map((b) => cell('cnn', b)).join(' | ')} |`,
  ];
  return lines.join('\n');
}
