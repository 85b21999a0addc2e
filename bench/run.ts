/**
 * `npm run bench -- NAME…`: runs the named benchmarks (all when none are named), prints each
 * table, and rewrites that benchmark's section of BENCHMARKS.md with the command and the machine.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineLine } from './machine.js';

const BENCHMARKS: Record<string, { title: string; load: () => Promise<{ run: () => Promise<string> }> }> = {
  aggregate: { title: 'FedAvg aggregation', load: () => import('./aggregate.js') },
  codec: { title: 'Wire codec', load: () => import('./codec.js') },
  backends: { title: 'Node tfjs backends: training steps/s', load: () => import('./backends.js') },
  secagg: {
    title: 'Secure aggregation (SecAgg+)',
    // The protocol's own costs, then what it adds to a real demo round.
    load: async () => {
      const [protocol, demo] = await Promise.all([import('./secagg.js'), import('./demo-round-time.js')]);
      return { run: async () => `${await protocol.run()}

### cohort demo round time

${await demo.run()}` };
    },
  },
  browser: { title: 'Browser backends in Chromium: training steps/s', load: () => import('./browser.js') },
  gas: { title: 'Contract gas', load: () => import('./gas.js') },
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
