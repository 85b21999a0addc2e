/**
 * The coordinator's HTTP(S) server: listens, and names the URLs it can be reached at. A port that
 * is taken or a host that cannot be bound is a config error, not a crash.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CohortError } from '../../core/protocol/errors.js';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { certFile: string; keyFile: string } | undefined;
}

export interface Listening {
  readonly server: Server;
  readonly port: number;
  /** http(s)://HOST:PORT */
  readonly httpUrl: string;
  /** ws(s)://HOST:PORT/ws */
  readonly wsUrl: string;
}

export async function listen(options: ListenOptions, handle: RequestListener): Promise<Listening> {
  const server: Server = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, handle)
    : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CohortError('E_CONFIG_INVALID', `cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    port,
    httpUrl: `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`,
    wsUrl: `${options.tls ? 'wss' : 'ws'}://${urlHost}:${port}/ws`,
  };
}

/** Stops accepting, drops keep-alive connections, and resolves once the server has closed. */
export async function stopListening(server: Server): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
