/**
 * `overSelect` at the run config, the run file and the CLI (issue 10.1): default 1.3, at least 1
 * (E_CONFIG_INVALID naming the field otherwise), and the DP sampling rate it implies: the
 * selection actually made, ⌈clientsPerRound × overSelect⌉ ÷ population.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConfigFromFlags } from '../../../coordinator/cli/run-flags.js';
import { closeAfterResults, selectionSize } from '../../../coordinator/engine/over-selection.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { validateRunFile } from '../../../coordinator/run-file/load.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';
import { codeAndMessage } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-over-select-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = (file: Record<string, unknown>, ctx: Parameters<typeof toRunPlan>[1] = {}) => toRunPlan(validateRunFile({ model: '2nn', ...file }, dir), ctx);


const base = {
  model: { kind: 'builtin', name: '2nn' },
  rounds: 1,
  minClients: 1,
  roundTimeoutMs: 1000,
  maxRoundRetries: 0,
  localEpochs: 1,
  batchSize: 32,
  optimizer: 'sgd',
  lr: 0.1,
  partition: { kind: 'iid', seed: 1 },
  seed: 1,
  evaluation: 'none',
  keepCheckpoints: 1,
  secureAggregation: false,
};

describe('overSelect', () => {
  it('defaults to 1.3 everywhere, and the file and the flag set it', () => {
    expect(parseRunConfig(base).overSelect).toBe(1.3);
    expect(plan({}).config.overSelect).toBe(1.3);
    expect(plan({ overSelect: 2 }).config.overSelect).toBe(2);
    expect(plan({ overSelect: 2 }, { overSelect: 1 }).config.overSelect).toBe(1);
    expect(runConfigFromFlags({}, { minClients: 3 }).overSelect).toBe(1.3);
    expect(runConfigFromFlags({ 'over-select': '1.5' }, { minClients: 3 }).overSelect).toBe(1.5);
  });

  it('refuses a value below 1 with E_CONFIG_INVALID naming the field', () => {
    expect(codeAndMessage(() => parseRunConfig({ ...base, overSelect: 0.9 }))).toMatch(/^E_CONFIG_INVALID: overSelect: overSelect must be at least 1/);
    expect(codeAndMessage(() => plan({ overSelect: 0.5 }))).toMatch(/^E_CONFIG_INVALID: overSelect\b/);
    expect(codeAndMessage(() => runConfigFromFlags({ 'over-select': '0.99' }, { minClients: 3 }))).toMatch(/^E_CONFIG_INVALID: overSelect: --over-select/);
    expect(codeAndMessage(() => runConfigFromFlags({ 'over-select': 'lots' }, { minClients: 3 }))).toMatch(/^E_CONFIG_INVALID: overSelect/);
  });

  it('selects ⌈clientsPerRound × overSelect⌉ and closes after clientsPerRound (never below the SecAgg+ threshold)', () => {
    expect(selectionSize({ clientsPerRound: 4, overSelect: 1.3 })).toBe(6);
    expect(selectionSize({ clientsPerRound: 3, overSelect: 1.3 })).toBe(4);
    expect(selectionSize({ clientsPerRound: 10, overSelect: 1.1 })).toBe(11);
    expect(selectionSize({ clientsPerRound: 10, overSelect: 1 })).toBe(10);
    expect(selectionSize({ clientsPerRound: undefined, overSelect: 1.3 })).toBeUndefined();
    // 6 selected but only 4 ready: the round needs all 4, as without over-selection.
    expect(closeAfterResults({ clientsPerRound: 4 }, 4)).toBe(4);
    expect(closeAfterResults({ clientsPerRound: 3 }, 4)).toBe(3);
    expect(closeAfterResults({ clientsPerRound: 3 }, 9, 5)).toBe(5);
    expect(closeAfterResults({ clientsPerRound: undefined }, 7)).toBe(7);
  });

  it('makes the DP sampling rate the selection actually made', () => {
    const privacy = { noiseMultiplier: 1, clipNorm: 1, delta: 1e-6 };
    expect(plan({ clientsPerRound: 10, population: 100, privacy }).config.privacy?.samplingRate).toBeCloseTo(13 / 100, 12);
    expect(plan({ clientsPerRound: 10, population: 100, overSelect: 1, privacy }).config.privacy?.samplingRate).toBeCloseTo(10 / 100, 12);
    // Over-selecting more than there are workers: q is capped at 1.
    expect(plan({ clientsPerRound: 4, population: 4, privacy }).config.privacy?.samplingRate).toBe(1);
  });
});
