/** The run's own JSON routes: /healthz for probes and /api/run for scripts and the CLI. */
import type { RunEngine } from '../engine/run-engine.js';
import type { RunConfig } from '../engine/run-config.js';
import { sendJson, type HttpRoutes } from '../server/http.js';
import type { RunStore } from '../store/run-store.js';

export function registerRunRoutes(routes: HttpRoutes, run: { runId: string; config: RunConfig; engine: RunEngine; store: RunStore }): void {
  const { runId, config, engine, store } = run;
  routes
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
}
