/**
 * The coordinator's public URLs: where workers reach its WebSocket endpoint. A worker signs the URL
 * it dialled, and the coordinator accepts a sign-in only for one of these, so a relay that forwards
 * our challenge to a worker who dialled the relay gets a signature that is useless here.
 *
 * Behind a proxy or a DNS name, the operator lists them (`cohort serve --public-url`). Otherwise
 * they are what the server listens on: ws://HOST:PORT/ws, or only wss:// with TLS (a plain ws://
 * dial of a TLS port cannot reach us, so accepting it could only help someone in the middle).
 */
import { networkInterfaces } from 'node:os';
import { CohortError } from '../../core/protocol/errors.js';
import { normalizeCoordinatorUrl } from '../../core/protocol/identity.js';

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];
const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '']);

/** The URLs a worker on this machine or network can dial to reach a server on host:port. */
export function defaultPublicUrls(listen: { host: string; port: number; tls: boolean }): string[] {
  const scheme = listen.tls ? 'wss' : 'ws';
  const bracket = (h: string): string => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  const host = bracket(listen.host);
  const hosts = new Set<string>([host]);
  // Every spelling of this machine reaches the same socket: no one else can hold this port here.
  if (LOOPBACK.includes(host)) for (const h of LOOPBACK) hosts.add(h);
  if (WILDCARD.has(listen.host)) {
    for (const h of LOOPBACK) hosts.add(h);
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) hosts.add(bracket(a.address.split('%')[0]!));
    }
  }
  return [...hosts].map((h) => normalizeCoordinatorUrl(`${scheme}://${h}:${listen.port}/ws`));
}

/** Checks operator-given public URLs (each ws:// or wss://) and returns them normalized, without repeats. */
export function checkPublicUrls(urls: readonly string[]): string[] {
  const checked = urls.map((url) => {
    if (!URL.canParse(url) || !/^wss?:$/.test(new URL(url).protocol)) {
      throw new CohortError('E_CONFIG_INVALID', `public URL '${url.slice(0, 200)}' is not a ws:// or wss:// URL`);
    }
    return normalizeCoordinatorUrl(url);
  });
  if (checked.length === 0) throw new CohortError('E_CONFIG_INVALID', 'at least one public URL is needed');
  return [...new Set(checked)];
}
