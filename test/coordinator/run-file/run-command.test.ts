/**
 * `cohort run FILE`: a run file served over real sockets to real Node worker processes, and the
 * checks made before anything starts.
 *
 * The processes run the real `cohort` command (bin/cohort.js).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { validateRunFile } from '../../../coordinator/run-file/load.js';
import { checkStoreForRunFile } from '../../../coordinator/run-file/store-check.js';
import { toRunPlan } from '../../../coordinator/run-file/to-run-config.js';
import { RunStore } from '../../../coordinator/store/run-store.js';

const COHORT = fileURLToPath(new URL('../../../bin/cohort.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cohort-run-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cohort(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [COHORT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function runFile(name: string, content: object): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('cohort run', () => {
  it('runs a FedAdam + DP run file with 3 local workers and prints only the summary, with (ε, δ)', async () => {
    const file = runFile('fedadam-dp.json', {
      model: '2nn',
      strategy: { name: 'fedadam', serverLr: 0.01 },
      rounds: 2,
      maxLocalSteps: 10,
      privacy: { clipNorm: 1, noiseMultiplier: 1, noise: 'distributed', delta: 1e-5 },
      evaluation: 'mnist',
    });
    const started = Date.now();
    const { code, stdout, stderr } = await cohort(['run', file, '--local-workers', '3', '--json', '--port', '0', '--store', join(dir, 'dp.sqlite')]);
    expect(code, stderr.slice(-2000)).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(summary).toMatchObject({ status: 'completed', rounds: 2, secureAggregation: true });
    expect(summary.workers).toHaveLength(3);
    const privacy = summary.privacy as { epsilon: unknown; delta: unknown };
    expect(typeof privacy.epsilon).toBe('number');
    expect(Number.isFinite(privacy.epsilon)).toBe(true);
    expect(privacy.delta).toBe(1e-5);
    console.log(`cohort run (3 workers, 2 rounds, FedAdam + DP + SecAgg+): ${((Date.now() - started) / 1000).toFixed(1)} s, ε = ${String(privacy.epsilon)}`);
  }, 180_000);

  it('refuses a bad run file before anything starts, in one line, exit 2', async () => {
    const file = runFile('bad.json', { model: '2nn', strategy: { name: 'fedadam', serverLr: 'fast' } });
    const { code, stdout, stderr } = await cohort(['run', file, '--local-workers', '3']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe('cohort: E_CONFIG_INVALID: strategy.serverLr: expected a positive number up to 1000, got "fast"');
  }, 60_000);

  it('refuses usage errors: no file, local data with local workers', async () => {
    expect((await cohort(['run', '--json'])).stderr).toMatch(/^cohort: E_CLI_USAGE: cohort run: which run file\?/);
    const local = runFile('local.json', { model: '2nn', data: 'local' });
    const refused = await cohort(['run', local, '--local-workers', '2']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/E_CLI_USAGE: --local-workers starts MNIST demo workers, but .* says data: local/);
  }, 60_000);
});

describe("a run file's store", () => {
  const plan = (value: object) => toRunPlan(validateRunFile({ model: '2nn', ...value }, dir)).config;

  it('resumes only the unfinished run of the same settings', () => {
    const path = join(dir, 'resume.sqlite');
    const store = new RunStore(path);
    store.createRun('run-a', { ...plan({ rounds: 5 }), runId: 'run-a' });
    store.close();
    expect(checkStoreForRunFile(path, plan({ rounds: 5 }))).toEqual({ resumes: 'run-a' });
    expect(() => checkStoreForRunFile(path, plan({ rounds: 6 }))).toThrow(/holds unfinished run run-a, started with other settings \(rounds differs\)/);
  });

  it('refuses a runId the store already has', () => {
    const path = join(dir, 'taken.sqlite');
    const store = new RunStore(path);
    store.createRun('taken', { ...plan({ runId: 'taken' }) });
    store.endRun('taken', 'completed', 'done');
    store.close();
    expect(() => checkStoreForRunFile(path, plan({ runId: 'taken' }))).toThrow(/runId: run taken already exists/);
    expect(checkStoreForRunFile(join(dir, 'new.sqlite'), plan({}))).toEqual({});
  });
});
