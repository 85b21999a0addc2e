/**
 * Assembles a coordinator: run store, model host, run engine, HTTP(S) server and WebSocket
 * gateway. `cohort serve`, `cohort demo` and the tests all start one through `startCoordinator`.
 *
 * If the store holds an unfinished run, it is resumed after its last completed round, from that
 * round's checkpoint; otherwise a new run starts from `config`.
 */
import { randomUUID } from 'node:crypto';
import { formatEther } from 'ethers';
import { readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CohortError } from '../../core/protocol/errors.js';
import { DEFAULT_LIMITS, type WireLimits } from '../../core/protocol/limits.js';
import type { WorkerMessage } from '../../core/protocol/messages.js';
import { createAdminToken } from '../dashboard/admin-token.js';
import type { DashboardProviders } from '../dashboard/providers.js';
import { registerDashboardRoutes } from '../dashboard/routes.js';
import { RunEngine, type RunSummary } from '../engine/run-engine.js';
import { CohortMetrics } from '../metrics/cohort-metrics.js';
import { registerMetricsRoute } from '../metrics/route.js';
import { parseRunConfig, type RunConfig } from '../engine/run-config.js';
import { checkSecureAggregation } from '../engine/secure-config.js';
import { RunPrivacy } from '../engine/run-privacy.js';
import { loadMnistTestSet } from '../evaluation/mnist-test-set.js';
import { ModelHost } from '../evaluation/model-host.js';
import { FederatedEvaluation } from '../evaluation/federated.js';
import { DEFAULT_HELD_OUT_FRACTION } from '../../core/protocol/evaluate.js';
import { attachLedger, type AttachedLedger } from '../ledger/attach.js';
import { registerRewardsRoutes } from '../ledger/rewards-route.js';
import type { LedgerConfig } from '../ledger/ledger-config.js';
import { RunStore } from '../store/run-store.js';
import { createStrategy } from '../strategy/create-strategy.js';
import { assertCompatibleWithSecureAggregation } from '../strategy/secure-compatibility.js';
import { HttpRoutes, sendJson } from './http.js';
import { checkPublicUrls, defaultPublicUrls } from './public-urls.js';
import { registerWorkerPageRoutes } from './worker-page.js';
import { WorkerSessions } from './worker-sessions.js';
import { WsGateway } from './ws-gateway.js';

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
  readonly sessions: WorkerSessions;
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

  // Resume the store's unfinished run, if any; its stored config wins over the flags.
  const unfinished = store.unfinishedRun();
  const config = unfinished ? parseRunConfig(unfinished.config) : options.config;
  const runId = unfinished?.id ?? config.runId ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  checkSecureAggregation(config);
  const strategy = createStrategy(config.strategy);
  assertCompatibleWithSecureAggregation(strategy, config.secureAggregation !== false);
  const privacy = RunPrivacy.create(config, strategy);
  if (!unfinished) store.createRun(runId, { ...config, runId });

  const testSet = config.evaluation === 'mnist' ? await loadMnistTestSet() : undefined;
  const host = await ModelHost.create(config.model, testSet);
  const checkpoint = unfinished ? store.latestCheckpoint(runId) : undefined;
  const resumedAfterRound = checkpoint?.round ?? 0;
  if (unfinished && store.lastCompletedRound(runId) !== resumedAfterRound) {
    throw new CohortError('E_STORE', `run ${runId}: last completed round and newest checkpoint disagree`);
  }
  const initialWeights = checkpoint?.weights ?? (await host.initialWeights());
  const strategyState = checkpoint ? store.strategyState(runId, checkpoint.round) : undefined;
  if (strategyState) strategy.restore?.(strategyState);
  const ledger = options.ledger
    ? await attachLedger({ store, runId, config: options.ledger.config, privateKey: options.ledger.privateKey, log })
    : undefined;
  const engine = new RunEngine({
    onRoundCommit: ledger?.onRoundCommit,
    runId,
    config,
    store,
    strategy,
    privacy,
    federatedEvaluation:
      config.evaluation === 'federated'
        ? new FederatedEvaluation(
            {
              heldOutFraction: config.federatedEvaluation?.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION,
              clients: config.federatedEvaluation?.clients ?? config.clientsPerRound,
              timeoutMs: config.federatedEvaluation?.timeoutMs ?? 60_000,
            },
            config.seed,
          )
        : undefined,
    initialWeights,
    resumeAfterRound: resumedAfterRound,
    evaluator: host.hasTestSet ? host : undefined,
  });

  const routes = new HttpRoutes()
    .get('/healthz', (_req, res) => sendJson(res, 200, { ok: true, runId, round: engine.completedRounds, workers: engine.readyCount() }))
    .get('/api/run', (_req, res) =>
      sendJson(res, 200, {
        runId,
        config,
        completedRounds: engine.completedRounds,
        rounds: store.rounds(runId),
        failures: store.roundFailures(runId),
        workers: engine.workerStats(),
        result: engine.result ?? null,
      }),
    );

  // The volunteers' worker page, and the demo's MNIST shards for its tabs.
  registerWorkerPageRoutes(routes, { partitionFor: () => config.partition });
  registerRewardsRoutes(routes, { ledger, store, runId, rpcUrl: options.ledger?.config.rpcUrl });

  const server: Server = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, routes.handle)
    : createHttpServer(routes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CohortError('E_CONFIG_INVALID', `cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const scheme = options.tls ? 'https' : 'http';
  const httpUrl = `${scheme}://${urlHost}:${port}`;
  const wsUrl = `${options.tls ? 'wss' : 'ws'}://${urlHost}:${port}/ws`;
  const publicUrls = configuredUrls ?? defaultPublicUrls({ host: options.host, port, tls: options.tls !== undefined });

  const coordinatorId = store.coordinatorId();
  const adminTokenFile = options.adminTokenFile ?? `${options.storePath}.admin-token`;
  const adminToken = createAdminToken(adminTokenFile);
  // Both read the sessions' counters lazily: the sessions are built with the dashboard's observe hook.
  const providers: DashboardProviders = options.dashboardProviders ?? {
    rewards: ledger ? (id) => new Map([...store.ledger.cumulativeRewards(id)].map(([address, wei]) => [address, `${formatEther(wei)} ETH`])) : undefined,
    roundTransactions: ledger ? (id) => store.ledger.sentTransactions(id) : undefined,
    privacy: privacy ? (id) => (id === runId ? (engine.privacyReport() ?? null) : null) : undefined,
  };
  const dashboard = registerDashboardRoutes(routes, { engine, store, gateway: () => sessions, adminToken, providers, log });
  const metrics = new CohortMetrics({ gateway: () => sessions, ledgerOutboxPending: options.ledgerOutboxPending ?? ledger?.pendingCount });
  const detachMetrics = metrics.attach(engine);
  registerMetricsRoute(routes, { metrics });
  const sessions = new WorkerSessions({
    coordinatorId,
    coordinatorUrl: publicUrls[0]!,
    publicUrls,
    limits,
    store,
    engine: () => engine,
    log,
    admitAddress: ledger?.checkAllowed,
    observe: (address, message) => {
      dashboard.observe(address, message);
      options.observe?.(address, message);
    },
  });
  const gateway = new WsGateway(server, limits, sessions, log);

  const done = engine.run();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      engine.stop('coordinator shutting down', true);
      await done.catch(() => undefined);
      dashboard.flush(); // the run's end reaches open dashboards before their streams close
      dashboard.close();
      detachMetrics();
      rmSync(adminTokenFile, { force: true });
      sessions.closeAll();
      await gateway.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      host.dispose();
      await ledger?.close(); // after the engine: its last round's record gets a moment to go out
      store.close();
    })();
    return closing;
  };
  log('info', `coordinator ${coordinatorId} listening on ${httpUrl} (run ${runId}${resumedAfterRound ? `, resumed after round ${resumedAfterRound}` : ''})`);
  log('info', `workers may sign in for: ${publicUrls.join(', ')}`);
  return { wsUrl, publicUrls, httpUrl, port, engine, store, gateway, sessions, resumedAfterRound, ledger, dashboardUrl: `${httpUrl}/dashboard`, workerPageUrl: `${httpUrl}/worker/`, adminTokenFile, metrics, done, close };
}
