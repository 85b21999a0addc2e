/**
 * `cohort doctor`'s browser check: the Chromium that browser tests and `--browser-workers` would
 * use (worker-browser/chromium.ts finds it), started with the same flags, on a page served with the
 * cross-origin isolation headers the coordinator sends. Does it offer WebGPU, and does the page end
 * up cross-origin isolated (what wasm threads need)? Lives in bin/: only bin/ may use worker-browser/.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser } from 'puppeteer';
import { CHROMIUM_FLAGS, findChromium } from '../worker-browser/chromium.js';
import { firstLine } from '../worker-node/backends/candidates.js';
import type { ChromiumCheck } from '../worker-node/doctor/doctor.js';

interface PageFindings {
  isolated: boolean;
  gpu: boolean;
  adapter: { vendor: string; architecture: string; device: string; description: string; fallback: boolean } | null;
  error: string | null;
}

const PAGE = '<!doctype html><title>cohort doctor</title>';

function servePage(): Promise<Server> {
  const server = createServer((_req, res) => {
    // The headers the coordinator's worker page is served with.
    res.writeHead(200, { 'content-type': 'text/html', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.end(PAGE);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Runs in the page: everything the doctor reports about the browser. */
async function probePage(): Promise<PageFindings> {
  const nav = navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string>; isFallbackAdapter?: boolean } | null> } };
  const out: PageFindings = { isolated: globalThis.crossOriginIsolated === true, gpu: nav.gpu !== undefined, adapter: null, error: null };
  if (!nav.gpu) return out;
  try {
    const adapter = await nav.gpu.requestAdapter();
    if (adapter) {
      const info = adapter.info ?? {};
      out.adapter = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '', fallback: adapter.isFallbackAdapter === true || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true };
    }
  } catch (err) {
    out.error = String(err);
  }
  return out;
}

export async function checkChromium(timeoutMs = 60_000): Promise<ChromiumCheck> {
  let path: string;
  try {
    path = await findChromium({ install: false });
  } catch (err) {
    return { path: null, error: firstLine(err), fix: 'apt-get install -y chromium (Debian/Ubuntu), or set CHROME_PATH to a Chrome or Chromium binary' };
  }
  const server = await servePage();
  let browser: Browser | undefined;
  try {
    try {
      browser = await puppeteer.launch({ executablePath: path, headless: true, args: [...CHROMIUM_FLAGS], protocolTimeout: timeoutMs });
    } catch (err) {
      return { path, error: `does not start: ${firstLine(err)}`, fix: 'run it by hand with --headless to see why; missing shared libraries: apt-get install -y chromium' };
    }
    const page = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: timeoutMs });
    const found = await page.evaluate(probePage);
    const check: ChromiumCheck = { path, crossOriginIsolated: found.isolated };
    if (found.adapter) {
      const a = found.adapter;
      const text = [...new Set([a.vendor, a.architecture, a.device, a.description].filter((p) => p !== ''))].join(' ') || 'unknown adapter';
      const software = a.fallback || /swiftshader|llvmpipe|lavapipe/i.test(`${a.architecture} ${a.device} ${a.description}`);
      check.webgpu = { available: true, adapter: text, software };
    } else {
      const reason = !found.gpu ? 'navigator.gpu is missing (Chromium too old, or WebGPU disabled)' : found.error ? `requestAdapter failed: ${found.error}` : 'requestAdapter returned null';
      check.webgpu = { available: false, reason };
      check.fix = 'keep the flags in worker-browser/chromium.ts (--enable-unsafe-webgpu --enable-unsafe-swiftshader); update Chromium (WebGPU needs 113+)';
    }
    if (!found.isolated) check.fix = `${check.fix ? `${check.fix}; ` : ''}the page is not cross-origin isolated: serve it over http://127.0.0.1 or https:// with COOP same-origin and COEP require-corp`;
    return check;
  } catch (err) {
    return { path, error: firstLine(err) };
  } finally {
    await browser?.close().catch(() => undefined);
    server.close();
  }
}
