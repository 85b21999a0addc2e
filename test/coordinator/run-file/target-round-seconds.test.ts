/**
 * `targetRoundSeconds` at the run config, the run file and the CLI (issue 10.2): off by default, a
 * positive number of seconds (E_CONFIG_INVALID naming the field otherwise), and refused with
 * differential privacy, whose clip norm bounds a whole delta rather than FedNova's per-step one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConfigFromFlags } from '../../../coordinator/cli/run-flags.js';
import { parseRunConfig } from '../../../coordinator/engine/run-config.js';
import { validateRunFile } from '../../../coordinator/run-file/load.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';
import { codeAndMessage } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-target-round-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = (file: Record<string, unknown>) => toRunPlan(validateRunFile({ model: '2nn', ...file }, dir), { population: 1000, clientsPerRound: 50 });


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

describe('targetRoundSeconds', () => {
  it('is off by default, and the config, the file and the flag set it', () => {
    expect(parseRunConfig(base).targetRoundSeconds).toBeUndefined();
    expect(parseRunConfig({ ...base, targetRoundSeconds: 30 }).targetRoundSeconds).toBe(30);
    expect(plan({}).config.targetRoundSeconds).toBeUndefined();
    expect(plan({ targetRoundSeconds: 12.5 }).config.targetRoundSeconds).toBe(12.5);
    expect(runConfigFromFlags({}, { minClients: 3 }).targetRoundSeconds).toBeUndefined();
    expect(runConfigFromFlags({ 'target-round-seconds': '2.5' }, { minClients: 3 }).targetRoundSeconds).toBe(2.5);
  });

  it('refuses zero, negative and non-numeric values with E_CONFIG_INVALID naming the field', () => {
    for (const bad of [0, -1]) {
      expect(codeAndMessage(() => parseRunConfig({ ...base, targetRoundSeconds: bad }))).toMatch(/^E_CONFIG_INVALID: targetRoundSeconds: /);
      expect(codeAndMessage(() => plan({ targetRoundSeconds: bad }))).toMatch(/^E_CONFIG_INVALID: targetRoundSeconds\b/);
    }
    expect(codeAndMessage(() => plan({ targetRoundSeconds: 'soon' }))).toMatch(/^E_CONFIG_INVALID: targetRoundSeconds\b/);
    for (const bad of ['0', '-3', 'abc', '', 'Infinity', '1e9']) {
      expect(codeAndMessage(() => runConfigFromFlags({ 'target-round-seconds': bad }, { minClients: 3 }))).toMatch(/^E_CONFIG_INVALID: targetRoundSeconds: --target-round-seconds expects/);
    }
  });

  it('is refused together with differential privacy, naming the field', () => {
    expect(codeAndMessage(() => plan({ targetRoundSeconds: 10, evaluation: 'federated', privacy: { noiseMultiplier: 1.1 } }))).toMatch(
      /^E_CONFIG_INVALID: targetRoundSeconds: targetRoundSeconds cannot be combined with differential privacy/,
    );
  });
});
