/**
 * `cohort setup-native`'s error paths, through the real command. (The success path needs a real
 * libtensorflow, which this machine does not have: see README, "Backends".)
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { COHORT_BIN, scratchDir } from '../../e2e/helpers.js';

const run = promisify(execFile);

async function setupNative(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [COHORT_BIN, 'setup-native', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** An unpacked-wheel layout: tensorflow/ with both libraries and the C headers. */
function fakeWheel(dir: string, library: Buffer | string, version?: string): void {
  mkdirSync(join(dir, 'tensorflow/include/tensorflow/c/eager'), { recursive: true });
  writeFileSync(join(dir, 'tensorflow/include/tensorflow/c/c_api.h'), '');
  writeFileSync(join(dir, 'tensorflow/include/tensorflow/c/eager/c_api.h'), '');
  writeFileSync(join(dir, 'tensorflow/libtensorflow_cc.so.2'), library);
  writeFileSync(join(dir, 'tensorflow/libtensorflow_framework.so.2'), library);
  if (version) {
    mkdirSync(join(dir, `tensorflow_cpu-${version}.dist-info`));
    writeFileSync(join(dir, `tensorflow_cpu-${version}.dist-info/METADATA`), `Metadata-Version: 2.1\nName: tensorflow-cpu\nVersion: ${version}\n`);
  }
}

describe('cohort setup-native', () => {
  const dir = scratchDir('cohort-setup-native-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing DIR: E_NATIVE_LIBRARY_MISSING, exit 2', async () => {
    const r = await setupNative(['--from', '/nonexistent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_NATIVE_LIBRARY_MISSING: --from \/nonexistent: no such folder/);
  });

  it('a DIR without the libraries: E_NATIVE_LIBRARY_MISSING naming what it looked for', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, 'tensorflow'), { recursive: true });
    writeFileSync(join(empty, 'tensorflow', 'libtensorflow_framework.so.2'), '');
    const r = await setupNative(['--from', empty, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'E_NATIVE_LIBRARY_MISSING' });
    expect(r.stderr).toMatch(/libtensorflow_cc\.so\.2.*c_api\.h/);
  });

  it('a library that does not load here: E_NATIVE_LOAD_FAILED with the loader\'s reason', async () => {
    const broken = join(dir, 'broken');
    fakeWheel(broken, Buffer.from('\x7fELF this is not a shared library'));
    const r = await setupNative(['--from', broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_NATIVE_LOAD_FAILED: the libtensorflow in .*libtensorflow_cc\.so\.2 does not load here: .*(invalid ELF header|file too short)/);
  });

  it('a TensorFlow version the binding cannot use: E_NATIVE_LOAD_FAILED', async () => {
    const old = join(dir, 'tf1');
    fakeWheel(old, '', '1.15.5');
    const r = await setupNative(['--from', old]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_NATIVE_LOAD_FAILED: TensorFlow 1\.15\.5: @tensorflow\/tfjs-node 4\.22 needs a TensorFlow 2\.x libtensorflow/);
  });

  it('no --from: E_CLI_USAGE, exit 2', async () => {
    const r = await setupNative([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_CLI_USAGE: cohort setup-native: --from DIR is required/);
  });
});
