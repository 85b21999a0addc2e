/**
 * Run files: every example in examples/ is valid, and every mistake is refused with the PATH of
 * the bad field, what was expected and what the file holds.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';
import { loadRunFile, parseRunFileText, validateRunFile } from '../../../coordinator/run-file/load.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cohort-run-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The E_CONFIG_INVALID message a run file value is refused with. */
function refusal(value: unknown, ctx: Parameters<typeof toRunPlan>[1] = {}): string {
  try {
    toRunPlan(validateRunFile(value, dir), ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(CohortError);
    return `${(error as CohortError).code}: ${(error as CohortError).message}`;
  }
  throw new Error(`accepted: ${JSON.stringify(value)}`);
}

describe('examples/', () => {
  const files = readdirSync(EXAMPLES).filter((f) => /\.(json|ya?ml)$/.test(f));

  it('holds the run files the issue and the docs name', () => {
    expect(files).toEqual(expect.arrayContaining(['mnist-fedavg.json', 'mnist-fedadam-dp.json', 'simulate-1000.yaml']));
  });

  it.each(files)('%s loads and becomes a run plan', (name) => {
    const file = loadRunFile(join(EXAMPLES, name));
    const forRun = toRunPlan(file, { localWorkers: 4 });
    const forSimulation = toRunPlan(file, { population: 1000, clientsPerRound: file.clientsPerRound ?? 100 });
    for (const plan of [forRun, forSimulation]) {
      expect(plan.config.rounds).toBeGreaterThan(0);
      expect(plan.source).toBe(join(EXAMPLES, name));
    }
  });

  it('mnist-fedadam-dp.json turns DP on with FedAdam under secure aggregation', () => {
    const plan = toRunPlan(loadRunFile(join(EXAMPLES, 'mnist-fedadam-dp.json')), { localWorkers: 4 });
    expect(plan.strategy).toMatchObject({ name: 'fedadam', serverLr: 0.01 });
    expect(plan.config.strategy.name).toBe('fedadam');
    expect(plan.privacy).toMatchObject({ noise: 'distributed', noiseMultiplier: 1, epsilonBudget: 30 });
    expect(plan.config.privacy).toEqual(plan.privacy);
    expect(plan.config.secureAggregation).not.toBe(false);
  });

  it('custom-model.yaml reads its Layers model relative to the run file', () => {
    const plan = toRunPlan(loadRunFile(join(EXAMPLES, 'custom-model.yaml')));
    expect(plan.config.model.kind).toBe('layers');
    expect(plan.config.model.kind === 'layers' && plan.config.model.topology.class_name).toBe('Sequential');
  });

  it('mnist-rewards.yaml becomes a LedgerConfig with the run rounds', () => {
    const plan = toRunPlan(loadRunFile(join(EXAMPLES, 'mnist-rewards.yaml')));
    expect(plan.ledger).toMatchObject({ rounds: 10, chainRunId: 1n, budgetWei: 10n ** 18n, perWorkerContributionCap: 6400, perAddressRewardCapWei: 5n * 10n ** 17n });
    expect(plan.ledger?.key).toEqual({ source: 'env', variable: 'COHORT_LEDGER_KEY' });
  });
});

describe('run file defaults', () => {
  it('fills in the engine defaults and the demo-like minClients', () => {
    const plan = toRunPlan(validateRunFile({ model: '2nn' }, dir), { localWorkers: 4 });
    expect(plan.config).toMatchObject({ rounds: 10, minClients: 4, batchSize: 32, optimizer: 'adam', lr: 0.001, evaluation: 'mnist', seed: 42 });
    expect(plan.config.secureAggregation).toEqual({});
    expect(plan.config.partition).toMatchObject({ kind: 'iid', seed: 42 });
    expect(plan.strategy).toEqual({ name: 'fedavg' });
    expect(plan.privacy).toBeUndefined();
    expect(toRunPlan(validateRunFile({ model: '2nn', secureAggregation: false }, dir)).config.minClients).toBe(1);
    expect(toRunPlan(validateRunFile({ model: '2nn', clientsPerRound: 7 }, dir)).config.minClients).toBe(7);
  });

  it('reads the same settings from JSON and YAML', () => {
    const yaml = parseRunFileText('model: cnn\ndata:\n  partition: dirichlet\n  alpha: 0.3\nstrategy:\n  name: fedprox\n  mu: 0.1\nrounds: 3\n', 'yaml');
    const json = parseRunFileText('{"model":"cnn","data":{"partition":"dirichlet","alpha":0.3},"strategy":{"name":"fedprox","mu":0.1},"rounds":3}', 'json');
    expect(toRunPlan(validateRunFile(yaml, dir))).toEqual(toRunPlan(validateRunFile(json, dir)));
  });

  it('maps federated evaluation into the run config, and the sampled DP rate to q', () => {
    const plan = toRunPlan(validateRunFile({ model: '2nn', evaluation: 'federated', privacy: { noiseMultiplier: 1.1 } }, dir), { population: 1000, clientsPerRound: 50 });
    expect(plan.config.evaluation).toBe('federated');
    expect(plan.config.federatedEvaluation).toEqual({ heldOutFraction: 0.1, timeoutMs: 60_000, clients: 50 });
    expect(plan.evaluation).toEqual({ kind: 'federated', heldOutFraction: 0.1, timeoutMs: 60_000, clients: 50 });
    // q is the selection actually made: ⌈50 × overSelect 1.3⌉ = 65 of 1000 (over-select.test.ts).
    expect(plan.config.privacy?.samplingRate).toBeCloseTo(0.065, 12);
  });

  it('local data needs no demo split', () => {
    expect(toRunPlan(validateRunFile({ model: '2nn', data: 'local' }, dir)).data).toBe('local');
  });
});

describe('run file errors name the field', () => {
  it.each([
    [{ model: '2nn', strategy: { name: 'fedadam', serverLr: 'fast' } }, 'E_CONFIG_INVALID: strategy.serverLr: expected a positive number up to 1000, got "fast"'],
    [{ model: '2nn', strategy: { name: 'fedfoo' } }, 'E_CONFIG_INVALID: strategy.name: expected one of "fedavg", "fedavgm", "fedprox", "fedadam", "fedyogi", "fedadagrad", "fedmedian", "fedtrimmedavg" or "krum", got "fedfoo"'],
    [{ model: '2nn', strategy: { name: 'fedadam', serverLR: 1 } }, 'E_CONFIG_INVALID: strategy.serverLR: unknown field (expected one of "name", "serverLr", "beta1", "beta2" or "tau")'],
    [{ model: 'resnet' }, 'E_CONFIG_INVALID: model: expected "2nn", "cnn", or {"layers": "model.json"}, got "resnet"'],
    [{ model: { layers: 3 } }, 'E_CONFIG_INVALID: model.layers: expected a path to a tfjs model.json, or its modelTopology inline, got 3'],
    [{}, 'E_CONFIG_INVALID: model: missing; expected "2nn", "cnn", or {"layers": "model.json"}'],
    [{ model: '2nn', rounds: 0 }, 'E_CONFIG_INVALID: rounds: expected an integer from 1 to 100000, got 0'],
    [{ model: '2nn', batchSize: 2.5 }, 'E_CONFIG_INVALID: batchSize: expected an integer from 1 to 65536, got 2.5'],
    [{ model: '2nn', optimizer: 'rmsprop' }, 'E_CONFIG_INVALID: optimizer: expected one of "adam" or "sgd", got "rmsprop"'],
    [{ model: '2nn', data: { partition: 'dirichlet', alpha: 'x' } }, 'E_CONFIG_INVALID: data.alpha: expected a positive number up to 1000000, got "x"'],
    [{ model: '2nn', data: { partition: 'iid', alpha: 0.3 } }, 'E_CONFIG_INVALID: data.alpha: only used with partition "dirichlet", not "iid"'],
    [{ model: '2nn', secureAggregation: { bits: 40 } }, 'E_CONFIG_INVALID: secureAggregation.bits: expected an integer from 2 to 31, got 40'],
    [{ model: '2nn', privacy: { noise: 'loud' } }, 'E_CONFIG_INVALID: privacy.noise: expected one of "central" or "distributed", got "loud"'],
    [{ model: '2nn', evaluation: { kind: 'federated', heldOutFraction: 2 } }, 'E_CONFIG_INVALID: evaluation.heldOutFraction: expected a number in (0, 1), got 2'],
    [{ model: '2nn', evaluation: 'none', targetAccuracy: 0.9 }, 'E_CONFIG_INVALID: targetAccuracy: needs an evaluation ("mnist" or "federated") to measure accuracy on'],
    [{ model: '2nn', clientsPerRound: 2, minClients: 3 }, 'E_CONFIG_INVALID: clientsPerRound: clientsPerRound must be at least minClients, got 2'],
    [{ model: '2nn', rewards: { budget: '1eth' } }, 'E_CONFIG_INVALID: rewards: rewards.budget, schedule, rewardCap and allowlist need a chain to be paid on; without one, rewards may hold only quality and contributionCap'],
    [{ model: '2nn', rewards: { contributionCap: 10 }, chain: { rpcUrl: 'http://127.0.0.1:8545', ledger: '0x5FbDB2315678afecb367f032d93F642f64180aa3', ledgerRun: 1 } }, 'E_CONFIG_INVALID: chain: a chain needs a reward budget (rewards.budget)'],
    [{ model: '2nn', rewards: { quality: { minGroupSize: 2 } } }, 'E_CONFIG_INVALID: rewards.quality.minGroupSize: expected an integer from 3 to 10000, got 2'],
    [{ model: '2nn', rewards: { quality: { floor: 1 } } }, expect.stringMatching(/^E_CONFIG_INVALID: rewards\.quality\.floor: /)],
    [{ model: '2nn', rewards: { quality: { flagConfidence: 0.2 } } }, expect.stringMatching(/^E_CONFIG_INVALID: rewards\.quality\.flagConfidence: /)],
    [{ model: '2nn', rewards: { quality: { shapley: true } } }, expect.stringMatching(/^E_CONFIG_INVALID: rewards\.quality\.shapley: unknown field/)],
    [{ model: '2nn', secureAggregation: false, rewards: { quality: {} } }, expect.stringMatching(/^E_CONFIG_INVALID: rewards\.quality: contribution scoring needs secure aggregation/)],
    [{ model: '2nn', evaluation: 'federated', rewards: { quality: {} } }, expect.stringMatching(/^E_CONFIG_INVALID: rewards\.quality: contribution scoring needs the coordinator's held-out set/)],
    [{ model: '2nn', clientsPerRound: 8, rewards: { quality: {} } }, expect.stringMatching(/^E_CONFIG_INVALID: rewards\.quality\.minGroupSize: contribution scoring needs rounds of at least 2 × minGroupSize workers/)],
    [{ model: '2nn', rewardz: {} }, expect.stringMatching(/^E_CONFIG_INVALID: rewardz: unknown field \(expected one of .*"rewards"/)],
  ])('%j', (value, expected) => {
    expect(refusal(value, { localWorkers: 4 })).toEqual(expected);
  });

  it('names the reward fields by their run-file names', () => {
    const chain = { rpcUrl: 'http://127.0.0.1:8545', ledger: '0x5FbDB2315678afecb367f032d93F642f64180aa3', ledgerRun: 1 };
    expect(refusal({ model: '2nn', rewards: { budget: 'lots' }, chain })).toMatch(/^E_CONFIG_INVALID: rewards\.budget: expected a positive amount/);
    expect(refusal({ model: '2nn', rounds: 10, rewards: { budget: '1eth', schedule: ['1'] }, chain })).toBe('E_CONFIG_INVALID: rewards.schedule: has 1 entries for 10 rounds');
    expect(refusal({ model: '2nn', rewards: { budget: '1eth' }, chain: { ...chain, ledger: '0x12' } })).toBe('E_CONFIG_INVALID: chain.ledger: expected a 0x-prefixed 20-byte address, got "0x12"');
  });

  it('refuses a strategy that secure aggregation cannot serve, naming strategy.name', () => {
    expect(refusal({ model: '2nn', strategy: { name: 'krum' } })).toMatch(/^E_STRATEGY_NEEDS_UPDATES: strategy\.name: strategy "krum" needs each worker's individual update/);
  });

  it('refuses DP settings the accountant cannot honour, naming the privacy field', () => {
    expect(refusal({ model: '2nn', secureAggregation: false, privacy: { noise: 'distributed' } })).toMatch(/^E_CONFIG_INVALID: privacy\.noise: distributed noise needs secure aggregation/);
    expect(refusal({ model: '2nn', clientsPerRound: 10, privacy: {} })).toMatch(/^E_CONFIG_INVALID: privacy\.samplingRate: the sampling rate is unknown/);
    expect(refusal({ model: '2nn', clientsPerRound: 10, population: 100, privacy: { delta: 0.1 } })).toMatch(/^E_CONFIG_INVALID: privacy\.delta: δ = 0\.1 must be below 1\/population/);
  });

  it('names the file and line of a syntax error', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'model: 2nn\nrounds: [1,\n');
    expect(() => loadRunFile(path)).toThrow(/broken\.yaml: not valid YAML \(line \d+, column \d+\)/);
    const json = join(dir, 'broken.json');
    writeFileSync(json, '{"model": "2nn",}');
    expect(() => loadRunFile(json)).toThrow(/broken\.json: not valid JSON/);
    expect(() => loadRunFile(join(dir, 'run.toml'))).toThrow(/must end in \.json, \.yaml or \.yml/);
    expect(() => loadRunFile(join(dir, 'missing.json'))).toThrow(/cannot read the run file \(ENOENT\)/);
  });

  it('names a Layers model file that cannot be used', () => {
    const path = join(dir, 'bad-model.yaml');
    writeFileSync(path, 'model:\n  layers: nowhere.json\n');
    expect(() => loadRunFile(path)).toThrow(/^model\.layers: cannot read the model file .*nowhere\.json \(ENOENT\)/);
    writeFileSync(join(dir, 'not-a-model.json'), '{"hello": 1}');
    writeFileSync(path, 'model:\n  layers: not-a-model.json\n');
    expect(() => loadRunFile(path)).toThrow(/expected a Layers topology with "class_name" and "config"/);
  });

  it('reads an allowlist file relative to the run file, and names a bad line', () => {
    writeFileSync(join(dir, 'allow.txt'), '# workers\n0x5FbDB2315678afecb367f032d93F642f64180aa3\n\nnot-an-address\n');
    const path = join(dir, 'allow.yaml');
    writeFileSync(path, 'model: 2nn\nrewards:\n  budget: 1eth\n  allowlist: allow.txt\nchain:\n  rpcUrl: http://127.0.0.1:8545\n  ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3"\n  ledgerRun: 1\n');
    expect(() => loadRunFile(path)).toThrow(/rewards\.allowlist: .*allow\.txt line 4: expected a 0x-prefixed 20-byte address, got "not-an-address"/);
    writeFileSync(join(dir, 'allow.txt'), '0x5fbdb2315678afecb367f032d93f642f64180aa3 # the one\n');
    expect(toRunPlan(loadRunFile(path)).ledger?.allowlist).toEqual(['0x5FbDB2315678afecb367f032d93F642f64180aa3']);
  });
});
