/**
 * Finding a libtensorflow the user already has, for `cohort setup-native`: in an unpacked
 * `tensorflow` / `tensorflow-cpu` pip wheel (tensorflow/libtensorflow_cc.so.2, which exports the C
 * API, tensorflow/libtensorflow_framework.so.2 and tensorflow/include/tensorflow/c/*.h) or in a
 * libtensorflow folder (lib/libtensorflow.so.2, lib/libtensorflow_framework.so.2, include/).
 * Then a load check in a child process, so a library for another CPU, another libc or a broken
 * download is refused before anything is installed or built.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CohortError } from '../../core/protocol/errors.js';

export interface NativeLibrary {
  /** The library with the C API (libtensorflow.so.2, or a wheel's libtensorflow_cc.so.2). */
  library: string;
  framework: string;
  /** The folder holding tensorflow/c/c_api.h. */
  include: string;
  layout: 'pip wheel' | 'libtensorflow folder';
  /** TensorFlow's version, when the folder says (a wheel's *.dist-info/METADATA). */
  version: string | null;
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

function wheelVersion(dir: string): string | null {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^tensorflow(_cpu|_gpu|_intel)?-[^-]+\.dist-info$/.test(entry)) continue;
    const metadata = join(dir, entry, 'METADATA');
    const match = existsSync(metadata) ? /^Version: *(\S+)/m.exec(readFileSync(metadata, 'utf8')) : null;
    if (match?.[1]) return match[1];
  }
  return null;
}

function inLayout(root: string): Omit<NativeLibrary, 'version'> | undefined {
  const headers = (inc: string): boolean => existsSync(join(inc, 'tensorflow/c/c_api.h')) && existsSync(join(inc, 'tensorflow/c/eager/c_api.h'));
  // An unpacked wheel: `root` is the wheel's top folder or its tensorflow/ folder.
  for (const tf of [join(root, 'tensorflow'), root]) {
    const library = firstExisting([join(tf, 'libtensorflow_cc.so.2'), join(tf, 'libtensorflow.so.2')]);
    const framework = firstExisting([join(tf, 'libtensorflow_framework.so.2')]);
    if (library && framework && headers(join(tf, 'include'))) return { library, framework, include: join(tf, 'include'), layout: 'pip wheel' };
  }
  const lib = join(root, 'lib');
  const library = firstExisting(['libtensorflow.so.2', 'libtensorflow.so'].map((n) => join(lib, n)));
  const framework = firstExisting(['libtensorflow_framework.so.2', 'libtensorflow_framework.so'].map((n) => join(lib, n)));
  if (library && framework && headers(join(root, 'include'))) return { library, framework, include: join(root, 'include'), layout: 'libtensorflow folder' };
  return undefined;
}

/** The libtensorflow in `dir`; E_NATIVE_LIBRARY_MISSING (saying what was looked for) if none. */
export function findNativeLibrary(dir: string): NativeLibrary {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CohortError('E_NATIVE_LIBRARY_MISSING', `--from ${dir}: no such folder`);
  }
  const found = inLayout(dir);
  if (!found) {
    throw new CohortError(
      'E_NATIVE_LIBRARY_MISSING',
      `--from ${dir}: no libtensorflow here. Expected an unpacked tensorflow or tensorflow-cpu pip wheel ` +
        '(tensorflow/libtensorflow_cc.so.2, tensorflow/libtensorflow_framework.so.2, tensorflow/include/tensorflow/c/c_api.h) ' +
        'or a libtensorflow folder (lib/libtensorflow.so.2, lib/libtensorflow_framework.so.2, include/tensorflow/c/c_api.h)',
    );
  }
  const version = wheelVersion(dir) ?? wheelVersion(join(dir, '..'));
  return { ...found, library: realpathSync(found.library), framework: realpathSync(found.framework), include: realpathSync(found.include), version };
}

/**
 * process.dlopen loads any shared library and only then looks for a Node addon in it: "did not
 * self-register" therefore means the library itself loaded. Run in a child: a bad library may
 * crash it, and TensorFlow's libraries do crash Node at exit, so success is the printed "loaded"
 * line for each file, not the exit status.
 */
const PROBE = `
const os = require('node:os');
for (const file of process.argv.slice(1)) {
  try { process.dlopen({ exports: {} }, file, os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL); }
  catch (e) { if (!/self-register|Module did not/i.test(String(e && e.message))) { console.log('failed ' + file + ': ' + String(e && e.message).split('\\n')[0]); process.exit(3); } }
  console.log('loaded ' + file);
}`;

/** E_NATIVE_LOAD_FAILED when the libraries do not load on this machine, or the version cannot work. */
export function checkNativeLibraryLoads(lib: NativeLibrary): void {
  const major = lib.version === null ? null : Number.parseInt(lib.version, 10);
  if (major !== null && major !== 2) {
    throw new CohortError('E_NATIVE_LOAD_FAILED', `TensorFlow ${lib.version}: @tensorflow/tfjs-node 4.22 needs a TensorFlow 2.x libtensorflow`);
  }
  const result = spawnSync(process.execPath, ['-e', PROBE, lib.framework, lib.library], { encoding: 'utf8', timeout: 60_000 });
  const lines = (result.stdout ?? '').split('\n');
  if (!lines.includes(`loaded ${lib.framework}`) || !lines.includes(`loaded ${lib.library}`)) {
    const failed = lines.find((l) => l.startsWith('failed '))?.slice('failed '.length);
    const why = failed ?? (result.error?.message || `the loader crashed (${String(result.signal ?? `exit ${String(result.status)}`)})`);
    throw new CohortError('E_NATIVE_LOAD_FAILED', `the libtensorflow in ${lib.library} does not load here: ${why}`);
  }
}
