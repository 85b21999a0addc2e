/**
 * GET /metrics: the coordinator's metrics in the Prometheus text format, for an operator's
 * Prometheus to scrape. Read-only, like /healthz.
 *
 * @example
 * registerMetricsRoute(routes, { metrics });
 * // scrape_configs: - job_name: cohort, static_configs: [{ targets: ['coordinator:8080'] }]
 */
import type { HttpRoutes } from '../server/http.js';
import { sendJson } from '../server/http.js';
import type { CohortMetrics } from './cohort-metrics.js';

export interface MetricsRouteDeps {
  metrics: Pick<CohortMetrics, 'render' | 'contentType'>;
  /** Default /metrics. */
  path?: string;
}

export function registerMetricsRoute(routes: HttpRoutes, deps: MetricsRouteDeps): void {
  routes.get(deps.path ?? '/metrics', async (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendJson(response, 405, { error: 'E_METHOD', message: 'method not allowed; use GET' });
      return;
    }
    const text = await deps.metrics.render();
    response.writeHead(200, { 'content-type': deps.metrics.contentType, 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : text);
  });
}
