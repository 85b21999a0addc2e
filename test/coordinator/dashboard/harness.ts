/**
 * Mounts the dashboard and /metrics around a running coordinator, on a second HTTP server, from
 * the handles startCoordinator returns. Tests use it so they need nothing wired inside the
 * coordinator; `cohort serve` mounts the same routes on its own server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { WorkerMessage } from '../../../core/protocol/messages.js';
import { createAdminToken } from '../../../coordinator/dashboard/admin-token.js';
import type { DashboardProviders } from '../../../coordinator/dashboard/providers.js';
import { registerDashboardRoutes, type DashboardDeps, type DashboardHandle } from '../../../coordinator/dashboard/routes.js';
import { CohortMetrics } from '../../../coordinator/metrics/cohort-metrics.js';
import { registerMetricsRoute } from '../../../coordinator/metrics/route.js';
import { HttpRoutes } from '../../../coordinator/server/http.js';

export interface Mounted {
  url: string;
  adminToken: string;
  tokenFile: string;
  dashboard: DashboardHandle;
  metrics: CohortMetrics;
  /** Pass to startCoordinator's `observe` (through a late-bound closure). */
  observe(address: string, message: WorkerMessage): void;
  close(): Promise<void>;
}

export async function mountDashboard(
  parts: Pick<DashboardDeps, 'engine' | 'store' | 'gateway'> & { dir: string; providers?: DashboardProviders; ledgerOutboxPending?: () => number },
): Promise<Mounted> {
  const tokenFile = join(parts.dir, 'run.sqlite.admin-token');
  const adminToken = createAdminToken(tokenFile);
  const routes = new HttpRoutes();
  const dashboard = registerDashboardRoutes(routes, { engine: parts.engine, store: parts.store, gateway: parts.gateway, adminToken, providers: parts.providers });
  const metrics = new CohortMetrics({ gateway: parts.gateway, ledgerOutboxPending: parts.ledgerOutboxPending });
  const detach = metrics.attach(parts.engine);
  registerMetricsRoute(routes, { metrics });
  const server: Server = createServer(routes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    adminToken,
    tokenFile,
    dashboard,
    metrics,
    observe: (address, message) => dashboard.observe(address, message),
    close: async () => {
      detach();
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
