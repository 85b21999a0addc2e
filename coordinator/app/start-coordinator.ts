/**
 * Assembles a coordinator: run store, model host, run engine, HTTP(S) server and WebSocket
 * gateway. `cohort serve`, `cohort demo` and the tests all start one through `startCoordinator`.
 *
 * If the store holds an unfinished run, it is resumed after its last completed round, from that
 * round's checkpoint; otherwise a new run starts from `config`.
 */
import { rmSync } from 'node:fs';
import { formatEther } from 'ethers';
import { DEFAULT_LIMITS, type WireLimits } from '../../core/protocol/limits.js';
import type { WorkerMessage } from '../../core/protocol/messages.js';
import { createAdminToken } from '../dashboard/admin-token.js';
import type { DashboardProviders } from '../dashboard/providers.js';
import { registerDashboardRoutes } from '../dashboard/routes.js';
import { RunEngine, type Evaluator, type RunSummary } from '../engine/run-engine.js';
import type { RunConfig } from '../engine/run-config.js';
import { attachLedger, type AttachedLedger } from '../ledger/attach.js';
import type { LedgerConfig } from '../ledger/ledger-config.js';
import { registerRewardsRoutes } from '../ledger/rewards-route.js';
import { CohortMetrics } from '../metrics/cohort-metrics.js';
import { registerMetricsRoute } from '../metrics/route.js';
import { HttpRoutes } from '../server/http.js';
import { registerWorkerPageRoutes } from '../server/worker-page.js';
import { RunStore } from '../store/run-store.js';
import { checkPublicUrls, defaultPublicUrls } from '../transport/public-urls.js';
import { WorkerRegistry } from '../transport/worker-registry.js';
import { WsGateway } from '../transport/ws-gateway.js';
import { listen, stopListening } from './listen.js';
import { openRun, type OpenedRun } from './open-run.js';
import { registerRunRoutes } from './run-routes.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string) => void;

export interface CoordinatorOptions {
  host: string;
  port: number;
  storePath: string;
  config: RunConfig;
  tls?: { certFile: string; keyFile: string } | undefined;
  /**
   * The WebSocket URLs workers reach this coordinator at (ws:// or wss://); a sign-in must be
   * signed for one of them. Default: what it listens on (see public-urls.ts).
   */
  publicUrls?: readonly string[] | undefined;
  limits?: Partial<WireLimits>;
  log?: Logger;
  /** Sees every validated message a signed-in worker sends. */
  observe?: (address: string, message: WorkerMessage) => void;
  /** Where the dashboard's admin token is written (mode 0600); default `<storePath>.admin-token`. */
  adminTokenFile?: string | undefined;
  /** Rewards, ledger transactions and ε for the dashboard, where the ledger and DP exist. */
  dashboardProviders?: DashboardProviders | undefined;
  /** Round records waiting in the ledger outbox, for /metrics (0 without a ledger). */
  ledgerOutboxPending?: (() => number) | undefined;
  /** Record each completed round's rewards on-chain through the store's ledger outbox. */
  ledger?: { config: LedgerConfig; privateKey?: string | undefined } | undefined;
  /**
   * A held-out evaluation of your own (Flower's server-side `evaluate_fn`): replaces the model
   * host's MNIST test set for round metrics and contribution scoring.
   */
  evaluator?: Evaluator | undefined;
}

export interface Coordinator {
  /** ws:// or wss:// URL workers connect to. */
  readonly wsUrl: string;
  /** The URLs a worker's sign-in may be signed for (normalized); the first is named in challenges. */
  readonly publicUrls: readonly string[];
  readonly httpUrl: string;
  readonly port: number;
  readonly engine: RunEngine;
  readonly store: RunStore;
  readonly gateway: WsGateway;
  /** Every worker connection, whatever its transport (connectInMemory attaches simulated workers here). */
  readonly workers: WorkerRegistry;
  readonly resumedAfterRound: number;
  /** The ledger's outbox and sender, when the run records rewards. */
  readonly ledger: AttachedLedger | undefined;
  /** http(s)://HOST:PORT/worker/: the volunteers' page */
  readonly workerPageUrl: string;
  /** http(s)://HOST:PORT/dashboard */
  readonly dashboardUrl: string;
  readonly adminTokenFile: string;
  readonly metrics: CohortMetrics;
  /** Resolves when the run ends. */
  readonly done: Promise<RunSummary>;
  close(): Promise<void>;
}

export async function startCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const log: Logger = options.log ?? (() => undefined);
  const limits: WireLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const configuredUrls = options.publicUrls ? checkPublicUrls(options.publicUrls) : undefined;
  const store = new RunStore(options.storePath, options.config.keepCheckpoints);
  const run = await openRun(store, options.config);
  const { runId, config, resumedAfterRound } = run;
  const ledger = options.ledger
    ? await attachLedger({ store, runId, config: options.ledger.config, privateKey: options.ledger.privateKey, log })
    : undefined;
  const engine = new RunEngine({
    onRoundCommit: ledger?.onRoundCommit,
    runId,
    config,
    store,
    strategy: run.strategy,
    privacy: run.privacy,
    federatedEvaluation: run.federatedEvaluation,
    initialWeights: run.initialWeights,
    resumeAfterRound: resumedAfterRound,
    evaluator: options.evaluator ?? (run.host.hasTestSet ? run.host : undefined),
  });

  const routes = new HttpRoutes();
  registerRunRoutes(routes, { runId, config, engine, store });
  // The volunteers' worker page, and the demo's MNIST shards for its tabs.
  registerWorkerPageRoutes(routes, { partitionFor: () => config.partition });
  registerRewardsRoutes(routes, { ledger, store, runId, rpcUrl: options.ledger?.config.rpcUrl });
  const { server, port, httpUrl, wsUrl } = await listen(options, routes.handle);
  const publicUrls = configuredUrls ?? defaultPublicUrls({ host: options.host, port, tls: options.tls !== undefined });

  const adminTokenFile = options.adminTokenFile ?? `${options.storePath}.admin-token`;
  const surface = attachWorkerSurface({ options, routes, run, store, engine, ledger, limits, publicUrls, adminTokenFile, log });
  const gateway = new WsGateway(server, limits, surface.workers, log);

  const done = engine.run();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      engine.stop('coordinator shutting down', true);
      await done.catch(() => undefined);
      surface.close(); // the run's end reaches open dashboards before their streams close
      rmSync(adminTokenFile, { force: true });
      await gateway.close();
      await stopListening(server);
      run.host.dispose();
      await ledger?.close(); // after the engine: its last round's record gets a moment to go out
      store.close();
    })();
    return closing;
  };
  log('info', `coordinator ${store.coordinatorId()} listening on ${httpUrl} (run ${runId}${resumedAfterRound ? `, resumed after round ${resumedAfterRound}` : ''})`);
  log('info', `workers may sign in for: ${publicUrls.join(', ')}`);
  const { workers, metrics } = surface;
  return { wsUrl, publicUrls, httpUrl, port, engine, store, gateway, workers, resumedAfterRound, ledger, dashboardUrl: `${httpUrl}/dashboard`, workerPageUrl: `${httpUrl}/worker/`, adminTokenFile, metrics, done, close };
}

interface WorkerSurfaceParts {
  options: CoordinatorOptions;
  routes: HttpRoutes;
  run: OpenedRun;
  store: RunStore;
  engine: RunEngine;
  ledger: AttachedLedger | undefined;
  limits: WireLimits;
  publicUrls: readonly string[];
  adminTokenFile: string;
  log: Logger;
}

/**
 * The worker registry, with the dashboard and /metrics that watch it. The registry is built with
 * the dashboard's observe hook, so the dashboard and metrics read its counters lazily.
 */
function attachWorkerSurface(parts: WorkerSurfaceParts): { workers: WorkerRegistry; metrics: CohortMetrics; close(): void } {
  const { options, routes, run, store, engine, ledger, log } = parts;
  const runId = run.runId;
  const providers: DashboardProviders = options.dashboardProviders ?? {
    rewards: ledger ? (id) => new Map([...store.ledger.cumulativeRewards(id)].map(([address, wei]) => [address, `${formatEther(wei)} ETH`])) : undefined,
    roundTransactions: ledger ? (id) => store.ledger.sentTransactions(id) : undefined,
    privacy: run.privacy ? (id) => (id === runId ? (engine.privacyReport() ?? null) : null) : undefined,
  };
  const adminToken = createAdminToken(parts.adminTokenFile);
  const dashboard = registerDashboardRoutes(routes, { engine, store, gateway: () => workers, adminToken, providers, log });
  const metrics = new CohortMetrics({ gateway: () => workers, ledgerOutboxPending: options.ledgerOutboxPending ?? ledger?.pendingCount });
  const detachMetrics = metrics.attach(engine);
  registerMetricsRoute(routes, { metrics });
  const workers = new WorkerRegistry({
    coordinatorId: store.coordinatorId(),
    coordinatorUrl: parts.publicUrls[0]!,
    publicUrls: parts.publicUrls,
    limits: parts.limits,
    store,
    engine: () => engine,
    log,
    admitAddress: ledger?.checkAllowed,
    observe: (address, message) => {
      dashboard.observe(address, message);
      options.observe?.(address, message);
    },
  });
  return {
    workers,
    metrics,
    close: () => {
      dashboard.flush();
      dashboard.close();
      detachMetrics();
      workers.closeAll();
    },
  };
}
