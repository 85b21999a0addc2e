/**
 * `mode: async` settings at the run file and the CLI (issue 10.3): bufferSize below what a secure
 * group can unmask, maxStaleness below 0, a strategy that cannot take stale sums, and the
 * combinations not built for async all get E_CONFIG_INVALID naming the field; differential
 * privacy accounts each group at q = 1; `--mode` overrides
 * the file (a sync run ignores the async settings, so one file runs both ways); FedBuff's weight.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stalenessWeight } from '../../../coordinator/engine/async-config.js';
import { RunPrivacy } from '../../../coordinator/engine/run-privacy.js';
import { epsilonFor } from '../../../coordinator/privacy/rdp-accountant.js';
import { createStrategy } from '../../../coordinator/strategy/create-strategy.js';
import { validateRunFile } from '../../../coordinator/run-file/load.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';
import { simulateCommand } from '../../../bin/research-commands.js';
import { codeAndMessage } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-async-mode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = (file: Record<string, unknown>, ctx: Parameters<typeof toRunPlan>[1] = {}) =>
  toRunPlan(validateRunFile({ model: '2nn', clientsPerRound: 10, mode: 'async', bufferSize: 10, ...file }, dir), ctx);


describe('mode: async', () => {
  it('takes bufferSize, maxStaleness (default 10) and maxConcurrentGroups from the run file', () => {
    const config = plan({ maxStaleness: 3, maxConcurrentGroups: 4 }).config;
    expect([config.mode, config.bufferSize, config.maxStaleness, config.maxConcurrentGroups]).toEqual(['async', 10, 3, 4]);
    expect(plan({}).config.maxStaleness).toBe(10);
    // --mode sync runs the same file synchronously; its async settings are then unused.
    expect(plan({}, { mode: 'sync' }).config.mode).toBe('sync');
    expect(plan({ mode: 'sync' }, { mode: 'async' }).config.mode).toBe('async');
  });

  it('refuses settings that cannot work, naming the field', () => {
    expect(codeAndMessage(() => plan({ bufferSize: undefined }))).toMatch(/^E_CONFIG_INVALID: bufferSize: mode "async" needs bufferSize/);
    expect(codeAndMessage(() => plan({ bufferSize: 2 }))).toMatch(/^E_CONFIG_INVALID: bufferSize: bufferSize 2 is below what a secure group of 3 can unmask/);
    expect(codeAndMessage(() => plan({ bufferSize: 4, secureAggregation: { threshold: 5 } }))).toMatch(/^E_CONFIG_INVALID: bufferSize: .*SecAgg\+ threshold 5/);
    expect(codeAndMessage(() => plan({ maxStaleness: -1 }))).toMatch(/^E_CONFIG_INVALID: maxStaleness: expected an integer from 0 to 100000, got -1$/);
    expect(codeAndMessage(() => plan({ strategy: { name: 'fedadam' } }))).toMatch(/^E_CONFIG_INVALID: strategy: strategy "fedadam" cannot take stale/);
    expect(codeAndMessage(() => plan({ rewards: { quality: {} } }))).toMatch(/^E_CONFIG_INVALID: rewards\.quality: contribution scoring is not built for mode "async"/);
    expect(codeAndMessage(() => plan({ privacy: { samplingRate: 0.1 } }))).toMatch(/^E_CONFIG_INVALID: privacy\.samplingRate: mode "async" accounts every group at sampling rate 1/);
    // Plain async runs take any small buffer.
    expect(plan({ bufferSize: 1, secureAggregation: false, minClients: 1 }).config.bufferSize).toBe(1);
  });

  it('takes differential privacy, accounting every group as one sampling event at q = 1', () => {
    const { config } = plan({ privacy: { noiseMultiplier: 1.2, clipNorm: 0.5 } });
    const privacy = RunPrivacy.create(config, createStrategy(config.strategy))!;
    expect(privacy.plan(1).accounting).toEqual({ q: 1, sigma: 1.2, steps: 1 });
    // Two groups under way and one more to start cost what three rounds at q = 1 cost.
    expect(privacy.checkNextRound(2).epsilonAfter).toBeCloseTo(epsilonFor({ q: 1, sigma: 1.2, steps: 3, delta: 1e-5 }).epsilon, 9);
  });

  it('refuses an unknown --mode with E_CLI_USAGE', async () => {
    const file = join(dir, 'run.yaml');
    writeFileSync(file, 'model: 2nn\nrounds: 1\n');
    await expect(simulateCommand([file, '--clients', '3', '--mode', 'fast'])).rejects.toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('--mode expects "sync" or "async"') });
  });

  it('weighs an update s versions stale by 1/√(1 + s)', () => {
    expect([0, 1, 3, 8].map(stalenessWeight)).toEqual([1, 1 / Math.sqrt(2), 0.5, 1 / 3]);
  });
});
