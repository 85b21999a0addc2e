/**
 * Serves the volunteer's page (worker-browser/dist, built by `npm run build`) under /worker/, and
 * the demo's MNIST shards under /demo-data/mnist/shard.
 *
 * Every response carries COOP same-origin + COEP require-corp, so the page is cross-origin isolated
 * and tfjs's wasm backend can use threads (SharedArrayBuffer), and CORP, so a page isolated that
 * way may load it. Paths are resolved inside dist only: no traversal, no directory listings.
 *
 * The page and its files also carry a Content-Security-Policy (WORKER_PAGE_CSP): the page holds
 * "Export key file" and "Claim" buttons, so it must never be framed by another site (clickjacking)
 * and must run no script but its own.
 *
 * @example
 * registerWorkerPageRoutes(routes, { partitionFor: () => config.partition });
 * // http://host:port/worker/?shard=0/2&autostart=1
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { partitionIndices } from '../../core/data/partition.js';
import type { PartitionSpec } from '../../core/protocol/messages.js';
import { readMnist } from '../data/mnist.js';
import { sendJson, type HttpRoutes } from './http.js';

export const WORKER_PAGE_DIST = fileURLToPath(new URL('../../worker-browser/dist/', import.meta.url));

export interface WorkerPageOptions {
  /** The built page (default worker-browser/dist). */
  distDir?: string;
  /**
   * The current run's partition spec; enables /demo-data/mnist/shard. Without it that route
   * answers 404 (a coordinator with no demo data).
   */
  partitionFor?: () => PartitionSpec;
  /** Most shards a demo may split MNIST into (default 1,000). */
  maxShardCount?: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.map', '.json', '.txt', '.svg', '.wasm']);

/** The isolation headers, on every response of the page, its scripts and its data. */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/**
 * What the page needs, and no more: its own scripts, its wasm (tfjs's wasm backend compiles it,
 * hence 'wasm-unsafe-eval', not 'unsafe-eval'), its own Web Workers. It connects out to
 * ws:/wss:/http:/https: because its coordinator may be another origin (a `?coordinator=` the
 * volunteer confirmed) and the chain's JSON-RPC endpoint always is.
 */
export const WORKER_PAGE_CSP = [
  "default-src 'self'",
  // blob: for the threads of tfjs's wasm backend: it starts them from scripts it holds in memory
  // (a blob only our own script can make), and they import the backend the same way.
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self' ws: wss: http: https:",
  "img-src 'self' data:",
  "style-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** On the page, its files and its redirect. */
export const PAGE_SECURITY_HEADERS = {
  'content-security-policy': WORKER_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

export function registerWorkerPageRoutes(routes: HttpRoutes, options: WorkerPageOptions = {}): HttpRoutes {
  const distDir = resolve(options.distDir ?? WORKER_PAGE_DIST);
  const files = new StaticFiles(distDir);
  routes.get('/worker', (_req, res) => {
    res.writeHead(308, { location: '/worker/', ...ISOLATION_HEADERS, ...PAGE_SECURITY_HEADERS });
    res.end();
  });
  routes.prefix('/worker/', (req, res, url) => files.serve(req, res, url.pathname.slice('/worker/'.length)));
  routes.get('/demo-data/mnist/shard', async (req, res, url) => {
    if (!allowMethod(req, res)) return;
    if (!options.partitionFor) return sendJson(res, 404, { error: 'E_NOT_FOUND', message: 'this coordinator serves no demo data' });
    const index = Number(url.searchParams.get('index'));
    const count = Number(url.searchParams.get('count'));
    const max = options.maxShardCount ?? 1_000;
    if (!Number.isInteger(count) || count < 1 || count > max || !Number.isInteger(index) || index < 0 || index >= count) {
      return sendJson(res, 400, { error: 'E_DATA_INVALID', message: `want index and count with 0 ≤ index < count ≤ ${max}` });
    }
    const body = await mnistTrainShard(index, count, options.partitionFor());
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.byteLength,
      'cache-control': 'no-store',
      // Public demo data: a page served from elsewhere (?coordinator=…) may fetch it too.
      'access-control-allow-origin': '*',
      ...ISOLATION_HEADERS,
      'cross-origin-resource-policy': 'cross-origin',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return routes;
}

function allowMethod(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  res.writeHead(405, { allow: 'GET, HEAD', ...ISOLATION_HEADERS });
  res.end();
  return false;
}

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  gzip: Buffer | undefined;
  etag: string;
}

/** Files of one directory, read once per modification and kept in memory (the page is ~3 MB). */
class StaticFiles {
  private readonly cache = new Map<string, CachedFile>();

  constructor(private readonly dir: string) {}

  async serve(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    if (!allowMethod(req, res)) return;
    const path = this.resolvePath(rawPath);
    if (path === undefined) return sendJson(res, 400, { error: 'E_BAD_PATH', message: 'bad path' });
    if (!existsSync(join(this.dir, 'index.html'))) {
      return sendJson(res, 503, { error: 'E_NOT_BUILT', message: `the worker page is not built (${this.dir}); run: npm run build` });
    }
    const file = await this.load(path);
    if (!file) return sendJson(res, 404, { error: 'E_NOT_FOUND', message: `no file ${rawPath}` });
    const ext = extname(path);
    const headers: Record<string, string | number> = {
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      // Revalidate every time: the build has no hashed names, and an ETag makes it cheap.
      'cache-control': 'no-cache',
      etag: file.etag,
      ...ISOLATION_HEADERS,
      ...PAGE_SECURITY_HEADERS,
    };
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? file.gzip! : file.body;
    headers['content-length'] = body.byteLength;
    headers.vary = 'accept-encoding';
    if (gzip) headers['content-encoding'] = 'gzip';
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** The absolute path of a file inside dir, or undefined for anything that tries to leave it. */
  private resolvePath(rawPath: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawPath);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
    const segments = decoded.split('/').filter((s) => s !== '');
    if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return undefined;
    const full = resolve(this.dir, ...(segments.length === 0 ? ['index.html'] : segments));
    return full.startsWith(this.dir + sep) ? full : undefined;
  }

  private async load(path: string): Promise<CachedFile | undefined> {
    let info;
    try {
      info = await stat(path);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const cached = this.cache.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs) return cached;
    const body = await readFile(path);
    const ext = extname(path);
    const file: CachedFile = {
      mtimeMs: info.mtimeMs,
      body,
      gzip: COMPRESSIBLE.has(ext) && body.byteLength > 1_024 ? gzipSync(body, { level: 6 }) : undefined,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`,
    };
    this.cache.set(path, file);
    return file;
  }
}

// ---------------------------------------------------------------- demo shards

const partitions = new Map<string, number[][]>();
const PARTITIONS_KEPT = 4;

/**
 * Demo shard `index` of `count` of MNIST's 60k training images, split by the run's partition spec
 * (core/data/partition.ts, the split every worker computes for itself), as two IDX files back to
 * back: images (idx3), then labels (idx1). 20k images are 15.7 MB; the page's tfjs bundle is 2 MB.
 */
export async function mnistTrainShard(index: number, count: number, spec: PartitionSpec): Promise<Buffer> {
  const { images, labels } = await readMnist('train');
  const train = { pixels: images.pixels, labels, rows: images.rows, cols: images.cols };
  const key = `${count}:${JSON.stringify(spec)}`;
  let parts = partitions.get(key);
  if (!parts) {
    parts = partitionIndices(train.labels, count, spec);
    partitions.set(key, parts);
    if (partitions.size > PARTITIONS_KEPT) partitions.delete(partitions.keys().next().value as string);
  }
  const members = parts[index] as number[];
  const size = train.rows * train.cols;
  const out = Buffer.alloc(16 + members.length * size + 8 + members.length);
  out.writeUInt32BE(0x00000803, 0);
  out.writeUInt32BE(members.length, 4);
  out.writeUInt32BE(train.rows, 8);
  out.writeUInt32BE(train.cols, 12);
  const labelsAt = 16 + members.length * size;
  out.writeUInt32BE(0x00000801, labelsAt);
  out.writeUInt32BE(members.length, labelsAt + 4);
  members.forEach((example, i) => {
    out.set(train.pixels.subarray(example * size, (example + 1) * size), 16 + i * size);
    out[labelsAt + 8 + i] = train.labels[example] as number;
  });
  return out;
}
