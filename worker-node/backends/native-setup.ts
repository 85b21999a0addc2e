/**
 * `cohort setup-native`: native TensorFlow for tfjs-node without its dead download. The binding
 * (binding.gyp) compiles against deps/include and links -ltensorflow -ltensorflow_framework from
 * deps/lib with rpath $ORIGIN/../../deps/lib; its install script skips the download when
 * deps/lib/libtensorflow.so.2.9.1 exists. So: link the user's libraries under those names (and
 * under the C library's own soname, which is what the built binding will ask the loader for), run
 * `npm rebuild` from source, and train a step in a child process to prove it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CohortError } from '../../core/protocol/errors.js';
import { checkNativeLibraryLoads, findNativeLibrary, type NativeLibrary } from './native-library.js';

export interface SetupNativeOptions {
  from: string;
  gpu: boolean;
  log: (line: string) => void;
}

export interface SetupNativeResult {
  package: string;
  library: NativeLibrary;
  stepsPerSecond: number;
}

/** The version tfjs-node's scripts/deps-constants.js hard-codes into the file it looks for. */
const BINDING_LIBTENSORFLOW_VERSION = '2.9.1';
const TFJS_VERSION = '4.22.0';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): { ok: boolean; tail: string } {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`;
  return { ok: result.status === 0, tail: output.trim().split('\n').slice(-15).join('\n') };
}

function ensurePackage(pkg: string, log: SetupNativeOptions['log']): string {
  const dir = join(ROOT, 'node_modules', pkg);
  if (existsSync(join(dir, 'binding.gyp'))) return dir;
  log(`installing ${pkg}@${TFJS_VERSION} without its install script (it would try the dead download)…`);
  const installed = run('npm', ['install', '--no-save', '--ignore-scripts', `${pkg}@${TFJS_VERSION}`]);
  if (!installed.ok || !existsSync(join(dir, 'binding.gyp'))) throw new CohortError('E_NATIVE_BUILD_FAILED', `npm install ${pkg} failed:\n${installed.tail}`);
  return dir;
}

function link(target: string, path: string): void {
  if (existsSync(path) || isLink(path)) rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Links `lib` into the package's deps/ under every name the build and the loader look for. */
function placeLibraries(pkgDir: string, lib: NativeLibrary): void {
  const deps = join(pkgDir, 'deps');
  const libDir = join(deps, 'lib');
  mkdirSync(libDir, { recursive: true });
  const v = BINDING_LIBTENSORFLOW_VERSION;
  const names = new Set(['libtensorflow.so', 'libtensorflow.so.2', `libtensorflow.so.${v}`, basename(lib.library)]);
  for (const name of names) link(lib.library, join(libDir, name));
  for (const name of new Set(['libtensorflow_framework.so', 'libtensorflow_framework.so.2', `libtensorflow_framework.so.${v}`, basename(lib.framework)])) {
    link(lib.framework, join(libDir, name));
  }
  link(lib.include, join(deps, 'include'));
}

function rebuild(pkg: string, pkgDir: string, log: SetupNativeOptions['log']): void {
  log(`npm rebuild ${pkg} (compiles the binding from source: a few minutes)…`);
  // node-pre-gyp reads this: never try the prebuilt binding's (equally dead) download.
  const built = run('npm', ['rebuild', pkg, '--foreground-scripts'], { npm_config_build_from_source: 'true' });
  const lib = join(pkgDir, 'lib');
  const binding = existsSync(lib) ? readdirSync(lib).some((d) => existsSync(join(lib, d, 'tfjs_binding.node'))) : false;
  if (!built.ok || !binding) throw new CohortError('E_NATIVE_BUILD_FAILED', `npm rebuild ${pkg} failed:\n${built.tail}`);
}

function verify(name: 'tfjs-node' | 'tfjs-node-gpu'): number {
  const script = join(ROOT, 'worker-node', 'backends', 'native-verify.ts');
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, name], { cwd: ROOT, encoding: 'utf8', timeout: 5 * 60_000 });
  const line = (result.stdout ?? '').trim().split('\n').at(-1) ?? '';
  let parsed: { ok?: boolean; stepsPerSecond?: number; reason?: string } = {};
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    // a crash: no JSON line
  }
  if (result.status !== 0 || parsed.ok !== true || typeof parsed.stepsPerSecond !== 'number') {
    const why = parsed.reason ?? ((result.stderr ?? '').trim().split('\n').at(-1) || `exit ${String(result.status ?? result.signal)}`);
    throw new CohortError('E_NATIVE_LOAD_FAILED', `the rebuilt ${name} does not train: ${why}`);
  }
  return parsed.stepsPerSecond;
}

export function setupNative(options: SetupNativeOptions): SetupNativeResult {
  const library = findNativeLibrary(options.from);
  options.log(`found ${library.layout} libtensorflow${library.version ? ` ${library.version}` : ''}: ${library.library}`);
  checkNativeLibraryLoads(library);
  const name = options.gpu ? 'tfjs-node-gpu' : 'tfjs-node';
  const pkg = `@tensorflow/${name}`;
  const pkgDir = ensurePackage(pkg, options.log);
  placeLibraries(pkgDir, library);
  options.log(`linked it into ${join(pkgDir, 'deps')}`);
  rebuild(pkg, pkgDir, options.log);
  const stepsPerSecond = verify(name);
  return { package: pkg, library, stepsPerSecond };
}
