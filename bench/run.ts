/**
 * `npm run bench -- NAME…`: runs the named benchmarks (all when none are named), prints each
 * table, and rewrites that benchmark's section of BENCHMARKS.md with the command and the machine.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineLine } from './machine.js';

/** What the unmasking target is compared with (Bonawitz et al. 2017). */
const PAPER_COMPARISON =
  '**Compared with the paper:** Bonawitz et al. (CCS 2017) report about 62 s of server time for 500 users × 100k entries at 10% dropout, for their Java implementation of the full-graph protocol, where every user shares masks with all others, so each dropout leaves n − 1 pairwise masks to recompute. SecAgg+ here uses Bell et al.\'s sparse graph (k = 36 neighbours, t = 19 for n = 500, the defaults), so a dropout leaves only k masks to recompute: the unmasking time above is for that graph, on 2 cores, not a like-for-like comparison of implementations.';

const BENCHMARKS: Record<string, { title: string; load: () => Promise<{ run: () => Promise<string> }> }> = {
  aggregate: { title: 'FedAvg aggregation', load: () => import('./aggregate.js') },
  codec: { title: 'Wire codec', load: () => import('./codec.js') },
  backends: { title: 'Node tfjs backends: training steps/s', load: () => import('./backends.js') },
  secagg: {
    title: 'Secure aggregation (SecAgg+)',
    // The protocol's own costs, then what it adds to a real demo round.
    load: async () => {
      const [protocol, demo] = await Promise.all([import('./secagg.js'), import('./demo-round-time.js')]);
      return { run: async () => [await protocol.run(), PAPER_COMPARISON, '### cohort demo round time', await demo.run()].join('\n\n') };
    },
  },
  browser: { title: 'Browser backends in Chromium: training steps/s', load: () => import('./browser.js') },
  gas: { title: 'Contract gas', load: () => import('./gas.js') },
  'preauth-memory': { title: 'Coordinator memory under a pre-sign-in flood', load: () => import('./preauth-memory.js') },
  fleet: { title: 'Heterogeneous fleet: fleet time to 97% by mode (issue 10)', load: () => import('./fleet.js') },
  contribution: { title: 'Contribution scoring: what adversaries earn (issue 11)', load: () => import('./contribution.js') },
};

const FILE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

function updateSection(name: string, body: string): void {
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${start}\n## ${BENCHMARKS[name]!.title}\n\nCommand: \`npm run bench -- ${name}\`  \nMachine: ${machineLine()}\n\n${body}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next = from >= 0 && to > from ? text.slice(0, from) + section + text.slice(to + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, next);
}

const requested = process.argv.slice(2);
const names = requested.length ? requested : Object.keys(BENCHMARKS);
for (const name of names) {
  const bench = BENCHMARKS[name];
  if (!bench) {
    console.error(`unknown benchmark '${name}'; choose from: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  console.log(`\n## ${bench.title}\n`);
  const table = await (await bench.load()).run();
  console.log(table);
  updateSection(name, table);
}
