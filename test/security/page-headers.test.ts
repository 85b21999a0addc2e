/**
 * Attack: framing the volunteer's page (issue 13, point 8). The worker page has "Export key file"
 * and "Claim" buttons; without `frame-ancestors`, any site could load it in an invisible frame and
 * trick a volunteer into clicking them (clickjacking). It sent no Content-Security-Policy at all.
 *
 * Against a real coordinator over real HTTP: the worker page, its scripts, its wasm and its
 * redirect carry a CSP with `frame-ancestors 'none'` and `X-Content-Type-Options: nosniff`, as do
 * the dashboard and the JSON API (nosniff); and in real Chromium, a page on another origin that
 * frames the worker page gets an empty, blocked frame.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { launchChromium } from '../../worker-browser/chromium.js';
import { scratchDir } from '../e2e/helpers.js';
import { PREPARE_TIMEOUT_MS, prepareBrowserTests } from '../worker-browser/helpers.js';

function cspDirectives(header: string | null): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name, values.join(' '));
  }
  return directives;
}

describe('security headers on the worker page and the dashboard', () => {
  let dir: string;
  let coordinator: Coordinator;
  let framer: Server | undefined;

  beforeAll(async () => {
    await prepareBrowserTests();
    dir = scratchDir();
    coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'store.sqlite'),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 1,
        minClients: 1,
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
  }, PREPARE_TIMEOUT_MS);

  afterAll(async () => {
    framer?.close();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const path of ['/worker/', '/worker/page.js', '/worker/worker.js', '/worker/style.css', '/worker/tfjs-wasm/tfjs-backend-wasm-simd.wasm']) {
    it(`serves ${path} with a CSP that forbids framing and foreign or inline script, and nosniff`, async () => {
      const response = await fetch(`${coordinator.httpUrl}${path}`);
      expect(response.status).toBe(200);
      const csp = cspDirectives(response.headers.get('content-security-policy'));
      expect(csp.get('frame-ancestors')).toBe("'none'");
      expect(csp.get('default-src')).toBe("'self'");
      // Its own scripts and wasm only (blob: is what tfjs's wasm threads start from): no inline script, no eval.
      expect(csp.get('script-src')?.split(' ').sort()).toEqual(["'self'", "'wasm-unsafe-eval'", 'blob:']);
      expect(csp.get('object-src')).toBe("'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    });
  }

  it('sends the same headers on the /worker redirect', async () => {
    const response = await fetch(`${coordinator.httpUrl}/worker`, { redirect: 'manual' });
    expect(response.status).toBe(308);
    expect(cspDirectives(response.headers.get('content-security-policy')).get('frame-ancestors')).toBe("'none'");
  });

  it('serves the dashboard with frame-ancestors none and nosniff, and the JSON API with nosniff', async () => {
    const page = await fetch(coordinator.dashboardUrl);
    expect(cspDirectives(page.headers.get('content-security-policy')).get('frame-ancestors')).toBe("'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    for (const path of ['/api/runs', '/api/run', '/healthz', '/no-such-route']) {
      const response = await fetch(`${coordinator.httpUrl}${path}`);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('in real Chromium, a page on another origin cannot frame the worker page', async () => {
    // The framing page is served from another origin (another port) and embeds the worker page.
    framer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><iframe id="victim" src="${coordinator.workerPageUrl}" width="800" height="600"></iframe>`);
    });
    await new Promise<void>((resolve) => framer!.listen(0, '127.0.0.1', resolve));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(framer.address() as AddressInfo).port}/`, { waitUntil: 'networkidle0' });
      const victim = page.frames().find((frame) => frame !== page.mainFrame());
      expect(victim).toBeDefined();
      // A blocked frame shows Chromium's error page, never the page's Join button.
      expect(await victim!.$('#join')).toBeNull();
    } finally {
      await browser.close();
    }
  });
});
