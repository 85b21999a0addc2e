#!/usr/bin/env node
// `npm run typecheck`: each layer is its own TypeScript project with only the runtime types it may
// use (docs/ARCHITECTURE.md), so a DOM call in core/ or a Node import in the browser page fails to
// compile. Runs them one after another (tsc is CPU-bound) and exits non-zero if any fails.
//
//   node scripts/typecheck.mjs [project ...]     (default: all of them)
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every project: the layer's folder (its tsconfig.json) and the types it gets. */
export const PROJECTS = [
  ['core', 'ES2023 only, plus core/globals (no DOM, no Node)'],
  ['contracts', 'ES2023 only, plus core/globals (neutral: the browser claims with it)'],
  ['contracts/node', 'Node'],
  ['coordinator', 'Node'],
  ['coordinator/dashboard/src', 'DOM'],
  ['worker-node', 'Node'],
  ['worker-browser', 'Node (the Chromium launcher)'],
  ['worker-browser/src', 'DOM + WebWorker'],
  ['.', 'DOM + Node: the harness (test/, bench/, bin/, scripts/)'],
];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const wanted = process.argv.slice(2);
const failed = [];
for (const [project, types] of PROJECTS) {
  if (wanted.length > 0 && !wanted.includes(project)) continue;
  const started = Date.now();
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', resolve(ROOT, project, 'tsconfig.json')], { stdio: 'inherit' });
  const ok = result.status === 0;
  if (!ok) failed.push(project);
  console.log(`typecheck ${project} (${types}): ${ok ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
if (failed.length > 0) {
  console.error(`typecheck failed in: ${failed.join(', ')}`);
  process.exit(1);
}
