/**
 * Serves the built dashboard (coordinator/dashboard/dist, written by build.mjs). Only plain file
 * names directly inside dist are served, so no request can reach outside it.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_DIST = fileURLToPath(new URL('./dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The page talks only to its own origin, runs only its own script, and is never framed. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export async function serveDashboardFile(response: ServerResponse, name: string, dir = DASHBOARD_DIST, method = 'GET'): Promise<void> {
  const type = TYPES[extname(name)];
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name) || type === undefined) {
    sendText(response, 404, `no dashboard file ${name}`);
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(join(dir, name));
  } catch {
    const hint = name === 'index.html' ? 'the dashboard is not built: run `npm run build`' : `no dashboard file ${name}`;
    sendText(response, name === 'index.html' ? 503 : 404, hint);
    return;
  }
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': body.byteLength,
    'cache-control': 'no-cache',
  });
  response.end(method === 'HEAD' ? undefined : body);
}

export function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`${text}\n`);
}
