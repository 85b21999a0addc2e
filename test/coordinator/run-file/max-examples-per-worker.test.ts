/**
 * `maxExamplesPerWorker` at the run file and the CLI: its defaults (twice a demo worker's MNIST
 * shard; a documented default for `data: local`) and E_CONFIG_INVALID naming the field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConfigFromFlags } from '../../../coordinator/cli/run-flags.js';
import { DEFAULT_LOCAL_MAX_EXAMPLES_PER_WORKER } from '../../../coordinator/engine/work-bound.js';
import { validateRunFile } from '../../../coordinator/run-file/load.js';
import { checkStoreForRunFile } from '../../../coordinator/run-file/store-check.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { codeAndMessage } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-max-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = (file: Record<string, unknown>, ctx: Parameters<typeof toRunPlan>[1] = {}) => toRunPlan(validateRunFile({ model: '2nn', ...file }, dir), ctx);


describe('maxExamplesPerWorker', () => {
  it('defaults to twice the demo shard: 2 × ⌈60000 ÷ shards⌉', () => {
    expect(plan({}, { localWorkers: 4 }).config.maxExamplesPerWorker).toBe(30_000);
    expect(plan({}, { population: 100, clientsPerRound: 10 }).config.maxExamplesPerWorker).toBe(1_200);
    // Workers started elsewhere: one shard may be the whole training set.
    expect(plan({}).config.maxExamplesPerWorker).toBe(120_000);
  });

  it('has a documented default for data: local, and the file wins over every default', () => {
    expect(plan({ data: 'local' }).config.maxExamplesPerWorker).toBe(DEFAULT_LOCAL_MAX_EXAMPLES_PER_WORKER);
    expect(plan({ data: 'local', maxExamplesPerWorker: 5_000 }).config.maxExamplesPerWorker).toBe(5_000);
    expect(plan({ maxExamplesPerWorker: 7 }, { localWorkers: 4 }).config.maxExamplesPerWorker).toBe(7);
  });

  it.each([0, -3, 1.5, 'many', 2e9])('refuses %s in a run file with E_CONFIG_INVALID naming the field', (value) => {
    expect(codeAndMessage(() => plan({ maxExamplesPerWorker: value }))).toMatch(/^E_CONFIG_INVALID: maxExamplesPerWorker\b/);
  });

  it('takes --max-examples-per-worker, defaults from the demo shards, and refuses bad values naming the field', () => {
    expect(runConfigFromFlags({ 'max-examples-per-worker': '900' }, { minClients: 3 }).maxExamplesPerWorker).toBe(900);
    expect(runConfigFromFlags({}, { minClients: 3, shards: 3 }).maxExamplesPerWorker).toBe(40_000);
    for (const bad of ['0', 'x', '2.5']) {
      expect(codeAndMessage(() => runConfigFromFlags({ 'max-examples-per-worker': bad }, { minClients: 3 }))).toMatch(/^E_CONFIG_INVALID: maxExamplesPerWorker: --max-examples-per-worker/);
    }
  });

  it('a run stored before the field existed still resumes from the same run file (the default fills it in)', () => {
    // Prepare: an unfinished run whose stored config has no maxExamplesPerWorker, as older stores hold.
    const config = plan({}).config;
    const { maxExamplesPerWorker: _absent, ...older } = config;
    const storePath = join(dir, 'older.sqlite');
    const store = new RunStore(storePath);
    store.createRun('older-run', older);
    store.close();
    // Execute + Assert
    expect(checkStoreForRunFile(storePath, config)).toEqual({ resumes: 'older-run' });
  });
});
