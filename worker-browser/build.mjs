/**
 * Builds the volunteer's page into worker-browser/dist with esbuild:
 *   index.html, style.css        the page
 *   page.js                      the page's script (UI, identity)
 *   worker.js                    the dedicated module Web Worker (protocol, data, tfjs, training)
 *   tfjs-wasm/*.wasm             tfjs's wasm binaries (setWasmPaths points here)
 *   build-info.json              what went in, so a stale build can be detected
 *
 * The new build is written next to dist and swapped in with renames, so a coordinator serving
 * dist (or another test file) never reads a half-written file.
 *
 * Usage: `node worker-browser/build.mjs`, or `import { buildWorkerPage } from './worker-browser/build.mjs'`.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
export const DEFAULT_OUT_DIR = join(here, 'dist');
const STATIC_FILES = ['index.html', 'style.css'];

/**
 * @param {{ outDir?: string, minify?: boolean, log?: (line: string) => void }} [options]
 * @returns {Promise<{ outDir: string, bytes: number }>}
 */
export async function buildWorkerPage(options = {}) {
  const outDir = resolve(options.outDir ?? DEFAULT_OUT_DIR);
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const staging = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  try {
    const result = await build({
      absWorkingDir: root,
      entryPoints: { page: join(here, 'src/page/main.ts'), worker: join(here, 'src/worker/main.ts') },
      outdir: staging,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      // WebGPU, module workers and top-level await: Chrome 113, Safari 17, Firefox 114.
      target: ['chrome113', 'safari17', 'firefox114'],
      minify: options.minify ?? true,
      sourcemap: 'linked',
      metafile: true,
      legalComments: 'linked',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    for (const warning of result.warnings) log(`worker-browser build: ${warning.text}`);
    for (const file of STATIC_FILES) copyFileSync(join(here, file), join(staging, file));
    const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    mkdirSync(join(staging, 'tfjs-wasm'));
    for (const file of readdirSync(join(wasmDir, 'dist')).filter((f) => f.endsWith('.wasm'))) {
      copyFileSync(join(wasmDir, 'dist', file), join(staging, 'tfjs-wasm', file));
    }
    const inputs = [...Object.keys(result.metafile.inputs), ...STATIC_FILES.map((f) => relative(root, join(here, f))), relative(root, fileURLToPath(import.meta.url))];
    writeFileSync(join(staging, 'build-info.json'), JSON.stringify({ builtAt: Date.now(), inputs }, null, 1));
    swapInto(staging, outDir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  const bytes = readdirSync(outDir).reduce((n, f) => n + statSync(join(outDir, f)).size, 0);
  log(`worker-browser: built ${relative(process.cwd(), outDir) || outDir} (${(bytes / 1e6).toFixed(1)} MB)`);
  return { outDir, bytes };
}

/** True when dist is missing or any of its inputs changed after it was built. */
export function isWorkerPageStale(outDir = DEFAULT_OUT_DIR) {
  const infoPath = join(outDir, 'build-info.json');
  if (!existsSync(infoPath)) return true;
  try {
    const info = JSON.parse(readFileSync(infoPath, 'utf8'));
    return info.inputs.some((input) => {
      const path = resolve(root, input);
      return !existsSync(path) || statSync(path).mtimeMs > info.builtAt;
    });
  } catch {
    return true;
  }
}

function swapInto(staging, outDir) {
  const old = `${outDir}.old-${process.pid}-${Date.now()}`;
  if (existsSync(outDir)) renameSync(outDir, old);
  renameSync(staging, outDir);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildWorkerPage();
}
