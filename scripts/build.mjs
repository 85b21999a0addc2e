// `npm install` / `npm run build`: compiles the Solidity contracts (solc-js) and bundles the
// browser worker page and the dashboard (esbuild). TypeScript itself needs no build step:
// bin/cohort.js runs it through tsx.
import { buildContracts } from './build-contracts.mjs';
import { buildWorkerPage } from '../worker-browser/build.mjs';
import { build as buildDashboard } from '../coordinator/dashboard/build.mjs';

const steps = [
  ['contracts', () => buildContracts({ quiet: true })],
  ['worker page', () => buildWorkerPage()],
  ['dashboard', () => buildDashboard()],
];

for (const [name, run] of steps) {
  const started = Date.now();
  await run();
  console.log(`built ${name} in ${Date.now() - started} ms`);
}
