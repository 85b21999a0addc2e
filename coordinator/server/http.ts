/**
 * The coordinator's HTTP side: health, a JSON status API, and (later) the dashboard and the
 * volunteers' worker page. Routes are few and fixed, so a small table beats a framework.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => void | Promise<void>;

export class HttpRoutes {
  private readonly exact = new Map<string, RouteHandler>();
  private readonly prefixes: Array<[string, RouteHandler]> = [];

  get(path: string, handler: RouteHandler): this {
    this.exact.set(path, handler);
    return this;
  }

  /** Handles every path under `prefix` (which ends with '/'). */
  prefix(prefix: string, handler: RouteHandler): this {
    this.prefixes.push([prefix, handler]);
    return this;
  }

  handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const handler = this.exact.get(url.pathname) ?? this.prefixes.find(([p]) => url.pathname.startsWith(p))?.[1];
    if (!handler) {
      sendJson(response, 404, { error: 'E_NOT_FOUND', message: `no route for ${url.pathname}` });
      return;
    }
    Promise.resolve(handler(request, response, url)).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: 'E_INTERNAL', message: String(error) });
      else response.end();
    });
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  // nosniff: a browser never runs or renders an answer (which may echo a request's text) as HTML or script.
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(text);
}
