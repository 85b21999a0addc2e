// `npm install` / `npm run build`: compiles the Solidity contracts (solc-js) and bundles the
// browser worker page (esbuild). TypeScript itself needs no build: bin/cohort.js runs it via tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const steps = [
  ['contracts', 'scripts/build-contracts.mjs'],
  ['worker page', 'worker-browser/build.mjs'],
  ['dashboard', 'coordinator/dashboard/build.mjs'],
];

for (const [name, file] of steps) {
  const path = `${root}${file}`;
  if (!existsSync(path)) continue;
  const started = Date.now();
  const mod = await import(pathToFileURL(path).href);
  if (typeof mod.build === 'function') await mod.build();
  console.log(`built ${name} in ${Date.now() - started} ms`);
}
