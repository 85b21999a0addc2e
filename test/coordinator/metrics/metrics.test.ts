/** /metrics: one registry per coordinator, driven by engine events and scrape-time callbacks. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CohortMetrics } from '../../../coordinator/metrics/cohort-metrics.js';
import { registerMetricsRoute } from '../../../coordinator/metrics/route.js';
import { HttpRoutes } from '../../../coordinator/server/http.js';
import { address, FakeEngine } from '../dashboard/fake-engine.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

describe('CohortMetrics', () => {
  it('counts rounds, failures, dropouts, stages and workers by kind and backend', async () => {
    let clock = 0;
    const metrics = new CohortMetrics({ processMetrics: false, now: () => clock });
    const engine = new FakeEngine('run-1');
    metrics.attach(engine);

    engine.emit({ type: 'worker-ready', address: address(1), kind: 'node', backend: { backend: 'wasm', reason: '' }, examples: 1 });
    engine.emit({ type: 'worker-ready', address: address(2), kind: 'browser', backend: { backend: 'webgpu', reason: '' }, examples: 1 });
    engine.emit({ type: 'worker-ready', address: address(3), kind: 'browser', backend: { backend: 'webgpu', reason: '' }, examples: 1 });
    engine.emit({ type: 'worker-left', address: address(3), reason: 'gone' });
    engine.emit({ type: 'waiting', runId: 'run-1', round: 1, ready: 2, needed: 3 });
    clock += 4_000;
    engine.emit({ type: 'round-started', runId: 'run-1', round: 1, attempt: 1, selected: [], deadline: 0 });
    engine.emit({ type: 'stage-completed', runId: 'run-1', round: 1, stage: 'train', seconds: 2 });
    engine.emit({ type: 'round-failed', runId: 'run-1', round: 1, attempt: 1, reason: 'too few', willRetry: true });
    engine.emit({
      type: 'round-completed', runId: 'run-1', round: 1, participants: 2, examples: 10, accuracy: 0.75, loss: 0.9, trainLoss: 1, durationMs: 3_000,
      dropped: [{ address: address(4), reason: 'x' }, { address: address(5), reason: 'y' }], backends: [],
    });
    engine.emit({ type: 'run-paused', runId: 'run-1' });

    const m = parsePrometheusText(await metrics.render());
    expect(sampleValue(m, 'cohort_rounds_completed_total')).toBe(1);
    expect(sampleValue(m, 'cohort_rounds_failed_total')).toBe(1);
    expect(sampleValue(m, 'cohort_worker_dropouts_total')).toBe(2);
    expect(sampleValue(m, 'cohort_workers_connected', { kind: 'node', backend: 'wasm' })).toBe(1);
    expect(sampleValue(m, 'cohort_workers_connected', { kind: 'browser', backend: 'webgpu' })).toBe(1);
    expect(sampleValue(m, 'cohort_stage_duration_seconds_sum', { stage: 'train' })).toBe(2);
    expect(sampleValue(m, 'cohort_stage_duration_seconds_sum', { stage: 'wait-for-workers' })).toBe(4);
    expect(sampleValue(m, 'cohort_model_accuracy')).toBe(0.75);
    expect(sampleValue(m, 'cohort_run_paused')).toBe(1);
    expect(sampleValue(m, 'cohort_ledger_outbox_pending')).toBe(0);
    for (const name of ['cohort_rounds_completed_total', 'cohort_worker_dropouts_total', 'cohort_bytes_received_total']) expect(m.types.get(name)).toBe('counter');
    expect(m.types.get('cohort_workers_connected')).toBe('gauge');
    expect(m.types.get('cohort_stage_duration_seconds')).toBe('histogram');
  });

  it('follows the gateway counters and the ledger outbox at scrape time', async () => {
    const counters = { bytesIn: 100, bytesOut: 50, errors: { E_FRAME_TOO_LARGE: 1 } as Record<string, number> };
    let pending = 3;
    const metrics = new CohortMetrics({ processMetrics: false, gateway: () => ({ counters, connectedCount: () => 4 }), ledgerOutboxPending: () => pending });

    let m = parsePrometheusText(await metrics.render());
    expect(sampleValue(m, 'cohort_bytes_received_total')).toBe(100);
    expect(sampleValue(m, 'cohort_protocol_errors_total', { code: 'E_FRAME_TOO_LARGE' })).toBe(1);
    expect(sampleValue(m, 'cohort_worker_sessions')).toBe(4);
    expect(sampleValue(m, 'cohort_ledger_outbox_pending')).toBe(3);

    counters.bytesIn = 250;
    counters.bytesOut = 75;
    counters.errors.E_FRAME_TOO_LARGE = 3;
    counters.errors.E_RATE_LIMITED = 1;
    pending = 0;
    m = parsePrometheusText(await metrics.render());
    expect(sampleValue(m, 'cohort_bytes_received_total')).toBe(250);
    expect(sampleValue(m, 'cohort_bytes_sent_total')).toBe(75);
    expect(sampleValue(m, 'cohort_protocol_errors_total', { code: 'E_FRAME_TOO_LARGE' })).toBe(3);
    expect(sampleValue(m, 'cohort_protocol_errors_total', { code: 'E_RATE_LIMITED' })).toBe(1);
    expect(sampleValue(m, 'cohort_ledger_outbox_pending')).toBe(0);
  });

  it('keeps two coordinators in one process apart, process metrics included', async () => {
    const a = new CohortMetrics();
    const b = new CohortMetrics();
    const engine = new FakeEngine('run-a');
    a.attach(engine);
    engine.emit({ type: 'round-completed', runId: 'run-a', round: 1, participants: 1, examples: 1, accuracy: null, loss: null, trainLoss: null, durationMs: 1, dropped: [], backends: [] });

    expect(sampleValue(parsePrometheusText(await a.render()), 'cohort_rounds_completed_total')).toBe(1);
    const other = parsePrometheusText(await b.render());
    expect(sampleValue(other, 'cohort_rounds_completed_total')).toBe(0);
    expect(other.types.get('process_cpu_seconds_total')).toBe('counter');
  });

  it('is served at GET /metrics in the Prometheus text format', async () => {
    const routes = new HttpRoutes();
    registerMetricsRoute(routes, { metrics: new CohortMetrics({ processMetrics: false }) });
    const server = createServer(routes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      const response = await fetch(url);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(parsePrometheusText(await response.text()).help.get('cohort_rounds_completed_total')).toMatch(/Rounds completed/);
      expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
