// Bundles the dashboard page (TypeScript, uPlot, CSS) into coordinator/dashboard/dist with esbuild.
// `node coordinator/dashboard/build.mjs` runs it directly; scripts/build.mjs calls build().
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = `${here}dist`;

/**
 * Writes dist/index.html, dist/dashboard.js and dist/dashboard.css (with source maps) and returns
 * their names. Each file is written beside its target and renamed over it, so a coordinator
 * serving the page, or a second build running at the same time, never sees a half-written file.
 */
export async function build({ minify = true } = {}) {
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild({
    entryPoints: { dashboard: `${here}src/main.ts` },
    outdir,
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify,
    sourcemap: true,
    logLevel: 'warning',
    // Generated code: keep `eslint .` off it even where dist/ is not in the ignore list.
    banner: { js: '/* eslint-disable */' },
  });
  const files = [...result.outputFiles.map((f) => [basename(f.path), f.contents]), ['index.html', readFileSync(`${here}src/index.html`)]];
  for (const [name, contents] of files) {
    const temporary = `${outdir}/.${name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temporary, contents);
    renameSync(temporary, `${outdir}/${name}`);
  }
  return files.map(([name]) => name);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const files = await build();
  console.log(`built the dashboard in ${Date.now() - started} ms: ${files.join(', ')} in ${outdir}`);
}
