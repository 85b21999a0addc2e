/**
 * Everything a tab sends, byte for byte, from the DevTools protocol: every request with its body
 * (Network.requestWillBeSent's postDataEntries, or getRequestPostData for bodies it leaves out) and
 * every WebSocket frame (Network.webSocketFrameSent, unmasked), for the page and for each of its
 * Web Workers (puppeteer attaches to a worker, with the Network domain on, before it runs).
 */
import type { CDPSession, Page, WebWorker } from 'puppeteer';

export interface Traffic {
  requests: Array<{ url: string; method: string; body: Buffer }>;
  /** Payloads of sent WebSocket frames. */
  frames: Buffer[];
  /** Resolves once the bodies of all requests seen so far are read. */
  settle(): Promise<void>;
}

interface RequestWillBeSent {
  requestId: string;
  request: { url: string; method: string; hasPostData?: boolean; postDataEntries?: Array<{ bytes?: string }> };
}
interface FrameSent {
  response: { opcode: number; payloadData: string };
}

/** Call before the page navigates. */
export async function watchTraffic(page: Page): Promise<Traffic> {
  const pending: Array<Promise<void>> = [];
  const traffic: Traffic = {
    requests: [],
    frames: [],
    settle: async () => {
      await Promise.all(pending);
    },
  };
  const attach = (client: CDPSession): void => {
    client.on('Network.webSocketFrameSent', ((event: FrameSent) => {
      const { opcode, payloadData } = event.response;
      traffic.frames.push(Buffer.from(payloadData, opcode === 2 ? 'base64' : 'utf8'));
    }) as (event: unknown) => void);
    client.on('Network.requestWillBeSent', ((event: RequestWillBeSent) => {
      const { request } = event;
      pending.push(
        (async () => {
          let body = Buffer.concat((request.postDataEntries ?? []).map((entry) => Buffer.from(entry.bytes ?? '', 'base64')));
          if (body.byteLength === 0 && request.hasPostData) {
            const data = (await client.send('Network.getRequestPostData', { requestId: event.requestId }).catch(() => undefined)) as
              | { postData: string; base64Encoded?: boolean }
              | undefined;
            // A body that cannot be read back counts as suspicious: keep a marker, never nothing.
            body = data ? Buffer.from(data.postData, data.base64Encoded ? 'base64' : 'utf8') : Buffer.from('<unreadable body>');
          }
          traffic.requests.push({ url: request.url, method: request.method, body });
        })(),
      );
    }) as (event: unknown) => void);
  };
  // The page's own session: a request or socket the page itself opens shows here.
  const pageSession = await page.createCDPSession();
  await pageSession.send('Network.enable');
  attach(pageSession);
  page.on('workercreated', (worker: WebWorker) => attach(worker.client));
  return traffic;
}

/** Where `needle` occurs in what was sent (empty when nowhere). */
export function findInTraffic(traffic: Traffic, needle: Buffer): string[] {
  const found: string[] = [];
  for (const r of traffic.requests) if (r.body.includes(needle) || Buffer.from(r.url).includes(needle)) found.push(`${r.method} ${r.url}`);
  traffic.frames.forEach((frame, i) => {
    if (frame.includes(needle)) found.push(`WebSocket frame ${i} (${frame.byteLength} bytes)`);
  });
  return found;
}
