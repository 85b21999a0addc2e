#!/usr/bin/env node
// Compiles contracts/**/*.sol with solc-js (standard JSON) and writes contracts/artifacts/<Name>.json
// as { contractName, abi, bytecode, deployedBytecode, compiler, inputHash }.
//
// Reproducible: evmVersion and optimizer settings are pinned here, and the compiler version is
// written into every artifact. Fast: when the sources, settings and compiler are unchanged the
// artifacts are kept and soljson (the slow part, about a second to load) is never loaded.
//
//   node scripts/build-contracts.mjs [--force] [--quiet]
//   import { buildContracts } from './build-contracts.mjs'; await buildContracts();
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Cancun: the newest fork that both anvil (which defaults to a later one) and the main public
// networks run. It is the first with transient storage, which ReentrancyGuardTransient needs.
export const EVM_VERSION = 'cancun';
export const OPTIMIZER = { enabled: true, runs: 10_000 };

/** Every .sol file under contracts/, as repository-relative paths with forward slashes. */
function findSources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'artifacts' && entry.name !== 'node_modules') out.push(...findSources(path));
    } else if (entry.name.endsWith('.sol')) {
      out.push(relative(ROOT, path).split(sep).join('/'));
    }
  }
  return out.sort();
}

function makeImportResolver(requireFrom) {
  return (path) => {
    try {
      // Package imports (@openzeppelin/contracts/...) resolve through node_modules, as Node would.
      const file = path.startsWith('contracts/') ? join(ROOT, path) : requireFrom.resolve(path);
      return { contents: readFileSync(file, 'utf8') };
    } catch {
      return { error: `cannot resolve import "${path}"` };
    }
  };
}

/**
 * Compiles the contracts unless the artifacts are already up to date.
 * @param {{ force?: boolean, quiet?: boolean }} [options]
 * @returns {Promise<{ artifacts: string[], compiled: boolean, ms: number }>}
 */
export async function buildContracts(options = {}) {
  const started = performance.now();
  const log = options.quiet ? () => {} : (line) => console.log(line);
  const require = createRequire(join(ROOT, 'package.json'));
  const solcVersion = JSON.parse(readFileSync(require.resolve('solc/package.json'), 'utf8')).version;
  const outDir = join(ROOT, 'contracts', 'artifacts');

  const sources = {};
  for (const path of findSources(join(ROOT, 'contracts'))) {
    sources[path] = { content: readFileSync(join(ROOT, path), 'utf8') };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: OPTIMIZER,
      // Strip the metadata hash so that the bytecode does not change with comments or paths.
      metadata: { bytecodeHash: 'none' },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };

  // The hash covers imported OpenZeppelin files only through its version, which is pinned.
  const ozVersion = JSON.parse(readFileSync(require.resolve('@openzeppelin/contracts/package.json'), 'utf8')).version;
  const inputHash = createHash('sha256').update(JSON.stringify({ input, solcVersion, ozVersion })).digest('hex');
  const stampPath = join(outDir, '.input-hash');
  if (!options.force && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === inputHash) {
    const artifacts = readdirSync(outDir).filter((f) => f.endsWith('.json')).map((f) => join(outDir, f));
    log(`contracts: up to date (${artifacts.length} artifacts)`);
    return { artifacts, compiled: false, ms: performance.now() - started };
  }

  const solc = (await import('solc')).default;
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: makeImportResolver(require) }));
  const problems = output.errors ?? [];
  // OpenZeppelin's own warnings (e.g. the generic one on transient storage, which is safe for the
  // reentrancy guard) are theirs to fix; ours are printed.
  const ours = (e) => !String(e.sourceLocation?.file ?? '').startsWith('@openzeppelin/');
  for (const p of problems.filter((e) => e.severity !== 'error' && ours(e))) log(p.formattedMessage);
  const errors = problems.filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`solc ${solcVersion} failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }

  // Each file is replaced atomically (write, then rename) so that a test file or a second build
  // running at the same time never reads half an artifact.
  mkdirSync(outDir, { recursive: true });
  const writeAtomic = (file, text) => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  };
  const artifacts = [];
  for (const path of Object.keys(sources)) {
    for (const [name, contract] of Object.entries(output.contracts?.[path] ?? {})) {
      const bytecode = contract.evm.bytecode.object;
      if (!bytecode) continue; // interfaces and abstract contracts cannot be deployed
      const file = join(outDir, `${name}.json`);
      const artifact = {
        contractName: name,
        sourceName: path,
        abi: contract.abi,
        bytecode: `0x${bytecode}`,
        deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
        compiler: { solc: solcVersion, evmVersion: EVM_VERSION, optimizer: OPTIMIZER },
        inputHash,
      };
      writeAtomic(file, `${JSON.stringify(artifact, null, 2)}\n`);
      artifacts.push(file);
    }
  }
  for (const stale of readdirSync(outDir).filter((f) => f.endsWith('.json') && !artifacts.includes(join(outDir, f)))) {
    rmSync(join(outDir, stale), { force: true });
  }
  writeAtomic(stampPath, inputHash);
  const ms = performance.now() - started;
  log(`contracts: compiled ${artifacts.length} artifacts with solc ${solcVersion} (${EVM_VERSION}) in ${Math.round(ms)} ms`);
  return { artifacts, compiled: true, ms };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  buildContracts({ force: args.includes('--force'), quiet: args.includes('--quiet') }).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
