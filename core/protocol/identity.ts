/**
 * The text a worker signs (EIP-191 personal_sign) to prove its address to one coordinator.
 * It names the coordinator (id and URL) so a signature made for one coordinator is useless at
 * another, and carries the connection's fresh nonce so it cannot be replayed.
 */
export function challengeText(fields: { coordinatorId: string; coordinatorUrl: string; nonce: string; protocol: number }): string {
  return [
    'Cohort worker sign-in',
    `coordinator: ${fields.coordinatorId}`,
    `url: ${fields.coordinatorUrl}`,
    `nonce: ${fields.nonce}`,
    `protocol: ${fields.protocol}`,
  ].join('\n');
}

/**
 * One spelling per coordinator URL, so the URL a worker dialled and the public URLs a coordinator
 * lists compare equal when they name the same endpoint: scheme and host lower-cased, default port
 * dropped (both by WHATWG URL parsing), no trailing slash, no query or fragment. A string that is
 * not a URL is returned unchanged: it then matches only itself.
 */
export function normalizeCoordinatorUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  const path = parsed.pathname.length > 1 ? parsed.pathname.replace(/\/+$/, '') : '';
  return `${parsed.protocol}//${parsed.host}${path}`;
}
