/**
 * The HTTP side of the worker page (no browser needed): isolation headers, content types, no way
 * out of dist, and demo shards identical to the ones Node workers compute for themselves.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIdxImages, parseIdxLabels } from '../../core/data/idx.js';
import type { InMemoryDataset } from '../../core/data/in-memory.js';
import type { PartitionSpec } from '../../core/protocol/messages.js';
import { HttpRoutes } from '../../coordinator/server/http.js';
import { registerWorkerPageRoutes } from '../../coordinator/server/worker-page.js';
import { mnistShard } from '../../worker-node/data/mnist.js';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A GET with the path sent exactly as given (fetch would normalise `..` away). */
function raw(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(routes: HttpRoutes): Promise<{ server: Server; port: number }> {
  const server = createServer(routes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('worker page routes', () => {
  const root = mkdtempSync(join(tmpdir(), 'cohort-page-routes-'));
  const dist = join(root, 'dist');
  const spec: PartitionSpec = { kind: 'iid', seed: 5, alpha: 0.5, shardsPerClient: 2 };
  let server: Server;
  let port: number;

  beforeAll(async () => {
    mkdirSync(join(dist, 'tfjs-wasm'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(dist, 'page.js'), `console.log(${JSON.stringify('x'.repeat(5_000))});`);
    writeFileSync(join(dist, 'page.js.map'), '{"version":3}');
    writeFileSync(join(dist, 'style.css'), 'body{}');
    writeFileSync(join(dist, 'tfjs-wasm', 'tfjs-backend-wasm-simd.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    writeFileSync(join(dist, '.hidden'), 'hidden');
    writeFileSync(join(root, 'secret.txt'), 'SECRET');
    ({ server, port } = await serve(registerWorkerPageRoutes(new HttpRoutes(), { distDir: dist, partitionFor: () => spec })));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the page with cross-origin isolation and the right content types', async () => {
    const index = await raw(port, '/worker/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(index.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(index.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(index.body.toString()).toContain('<title>page</title>');

    const types: Record<string, string> = {
      '/worker/page.js': 'text/javascript; charset=utf-8',
      '/worker/page.js.map': 'application/json; charset=utf-8',
      '/worker/style.css': 'text/css; charset=utf-8',
      '/worker/tfjs-wasm/tfjs-backend-wasm-simd.wasm': 'application/wasm',
    };
    for (const [path, type] of Object.entries(types)) {
      const response = await raw(port, path);
      expect(response.status, path).toBe(200);
      expect(response.headers['content-type'], path).toBe(type);
      expect(response.headers['cross-origin-embedder-policy'], path).toBe('require-corp');
    }
    const redirect = await raw(port, '/worker');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe('/worker/');
  });

  it('compresses, revalidates with an ETag, and refuses other methods', async () => {
    const zipped = await raw(port, '/worker/page.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toContain('console.log');
    const again = await raw(port, '/worker/page.js', { headers: { 'if-none-match': String(zipped.headers.etag) } });
    expect(again.status).toBe(304);
    expect((await raw(port, '/worker/page.js', { method: 'POST' })).status).toBe(405);
  });

  it('never serves a file outside dist, nor a hidden one', async () => {
    for (const path of ['/worker/../secret.txt', '/worker/%2e%2e/secret.txt', '/worker/..%2fsecret.txt', '/worker/..%5csecret.txt', '/worker/.hidden', '/worker/%00', '/worker/tfjs-wasm/', '/worker/nope.js']) {
      const response = await raw(port, path);
      expect([400, 404], path).toContain(response.status);
      expect(response.body.toString(), path).not.toContain('SECRET');
    }
  });

  it('says when the page is not built', async () => {
    const empty = await serve(registerWorkerPageRoutes(new HttpRoutes(), { distDir: join(root, 'missing') }));
    const response = await raw(empty.port, '/worker/');
    expect(response.status).toBe(503);
    expect(response.body.toString()).toContain('npm run build');
    expect((await raw(empty.port, '/demo-data/mnist/shard?index=0&count=2')).status).toBe(404);
    empty.server.close();
  });

  it('serves the same MNIST shard a Node worker computes for itself, as two IDX files', async () => {
    const response = await raw(port, '/demo-data/mnist/shard?index=1&count=3');
    expect(response.status).toBe(200);
    const images = parseIdxImages(response.body.subarray(0, 16 + 20_000 * 784));
    const labels = parseIdxLabels(response.body.subarray(16 + 20_000 * 784));
    const node = mnistShard(1, 3, spec) as InMemoryDataset;
    expect(images.count).toBe(20_000);
    expect(node.size).toBe(20_000);
    // Same examples in the same order: the page's shard is the Node worker's shard.
    expect([...labels]).toEqual([...node.labelArray()]);

    for (const bad of ['index=3&count=3', 'index=-1&count=3', 'index=0&count=0', 'index=a&count=2', 'index=0&count=100000']) {
      expect((await raw(port, `/demo-data/mnist/shard?${bad}`)).status, bad).toBe(400);
    }
  });
});
