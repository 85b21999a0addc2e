/**
 * The dedicated Web Worker of the volunteer's tab (built to dist/worker.js, started as a module
 * worker). It runs core's WorkerClient over the browser's WebSocket, so the protocol, the data and
 * the training all live off the page's thread, and the page stays responsive. It is also where a
 * hidden tab keeps training: Chromium throttles a hidden page's timers, not a dedicated worker.
 *
 * Secure aggregation runs here too: WorkerClient drives core/secagg's client on the same socket;
 * its signatures come from the page like every other one, and peers' are checked with ethers.
 *
 * Messages in and out are typed in ../bridge.ts.
 */
import { verifyMessage } from 'ethers';
import { CohortError } from '../../../core/protocol/errors.js';
import { WorkerClient } from '../../../core/worker/client.js';
import { browserSocket } from '../socket.js';
import type { PageToWorker, StartRequest, WorkerToPage } from '../bridge.js';
import { prepareBackends } from './backends.js';
import { runBenchmark } from './bench.js';
import { importFiles } from './import.js';
import { BrowserTrainer } from './trainer.js';
import { clearDataset } from '../storage.js';

interface WorkerScope {
  postMessage(message: WorkerToPage): void;
  onmessage: ((event: MessageEvent<PageToWorker>) => void) | null;
  addEventListener(type: 'unhandledrejection', listener: (event: PromiseRejectionEvent) => void): void;
}
const scope = self as unknown as WorkerScope;
const post = (message: WorkerToPage): void => scope.postMessage(message);

let session: WorkerClient | undefined;
let trainer: BrowserTrainer | undefined;
let nextSignId = 1;
const signing = new Map<number, { resolve: (signature: string) => void; reject: (error: Error) => void }>();

/** Signatures come from the page, where the identity (tab key or injected wallet) lives. */
function signOnPage(message: string | Uint8Array): Promise<string> {
  const id = nextSignId++;
  return new Promise((resolve, reject) => {
    signing.set(id, { resolve, reject });
    post({ type: 'sign', id, message });
  });
}

function start(request: StartRequest): void {
  if (session) return post({ type: 'log', level: 'warn', message: 'already joined' });
  prepareBackends(request.wasmPaths);
  trainer = new BrowserTrainer(request, post);
  const current = new WorkerClient({
    url: request.coordinatorUrl,
    kind: 'browser',
    requireSecureAggregation: request.requireSecureAggregation,
    client: `cohort-worker-browser/0.1 (${navigator.userAgent.slice(0, 120)})`,
    signer: { address: request.address, signMessage: signOnPage },
    // Secure aggregation: peers' advertised keys carry their EIP-191 identity signatures.
    verifySignature: (bytes, signature, address) => {
      try {
        return verifyMessage(bytes, signature).toLowerCase() === address.toLowerCase();
      } catch {
        return false;
      }
    },
    socketFactory: browserSocket,
    hooks: trainer,
    onEvent: (event) => {
      if (event.kind === 'error' && trainer?.interrupted !== undefined && event.message === trainer.interrupted) {
        return post({ type: 'log', level: 'info', message: event.message });
      }
      post({ type: 'session', event });
      if (event.kind === 'submitted') post({ type: 'progress', stage: 'submitted', round: event.round });
      if (event.kind === 'secagg') post({ type: 'progress', stage: `secagg:${event.stage}`, round: event.round });
    },
  });
  session = current;
  current.start();
  void current.done.then((end) => {
    if (session === current) session = undefined;
    trainer?.dispose();
    trainer = undefined;
    post({ type: 'ended', reason: end.reason, ...(end.error ? { error: `${end.error.code}: ${end.error.message}` } : {}) });
  });
}

async function handle(message: PageToWorker): Promise<void> {
  switch (message.type) {
    case 'start':
      return start(message);
    case 'stop':
      await session?.stop(message.reason);
      return;
    case 'sign-result':
      signing.get(message.id)?.resolve(message.signature);
      signing.delete(message.id);
      return;
    case 'sign-error':
      signing.get(message.id)?.reject(new CohortError('E_AUTH_BAD_SIGNATURE', `the wallet did not sign: ${message.message}`));
      signing.delete(message.id);
      return;
    case 'import-files':
      try {
        post({ type: 'import-result', id: message.id, summary: await importFiles(message.format, message.files) });
      } catch (error) {
        post({ type: 'import-result', id: message.id, error: error instanceof Error ? error.message : String(error) });
      }
      return;
    case 'clear-local-data':
      await clearDataset();
      post({ type: 'import-result', id: message.id });
      return;
    case 'benchmark': {
      const rows = await runBenchmark(message, (row) => post({ type: 'log', level: 'info', message: `bench ${row.model} ${row.backend}: ${row.stepsPerSecond ?? row.note}` }));
      post({ type: 'benchmark-result', id: message.id, rows });
      return;
    }
  }
}

scope.onmessage = (event) => {
  handle(event.data).catch((error: unknown) => post({ type: 'log', level: 'error', message: error instanceof Error ? error.message : String(error) }));
};
scope.addEventListener('unhandledrejection', (event) => {
  post({ type: 'log', level: 'error', message: `unhandled: ${event.reason instanceof Error ? event.reason.message : String(event.reason)}` });
});
