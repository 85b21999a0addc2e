/**
 * The researcher's commands: `cohort run FILE` (serve a run file), `cohort simulate FILE` (the same
 * run on N in-memory clients) and `cohort export` (a stored model as a tfjs LayersModel). Flags are
 * checked here, before anything starts; bad ones throw E_CLI_USAGE, a bad run file
 * E_CONFIG_INVALID naming the field, and bin/main.ts prints `cohort: CODE: message`.
 */
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { CohortError } from '../core/protocol/errors.js';
import { intFlag, stringFlag, type FlagSpec, type FlagValues } from '../coordinator/cli/flags.js';
import { overSelectFlag } from '../coordinator/cli/run-flags.js';
import { parseLogFormat, parseLogLevel } from '../coordinator/log.js';
import type { ServeOptions } from '../coordinator/cli/serve.js';
import { loadRunFile } from '../coordinator/run-file/load.js';
import { checkStoreForRunFile } from '../coordinator/run-file/store-check.js';
import { toRunPlan, type RunPlan } from '../coordinator/run-file/to-run-config.js';

export const RUN_HELP = `cohort run FILE [options]

Runs the training run a run file describes (JSON or YAML; see README.md, "Research runs"): \`cohort serve\`
with every setting taken from FILE. Without --local-workers it waits for workers to join.

  --local-workers N        also start N Node workers here, on MNIST shards i/N (default 0)
  --over-select X          overrides FILE's overSelect: select ⌈clientsPerRound × X⌉, close once
                           clientsPerRound updates are in (default 1.3)
  --json                   print only the final summary as JSON on stdout (with "privacy" when DP is on)
  --host HOST              interface to listen on (default 127.0.0.1)
  --port N                 port (default 8787; 0 picks a free one)
  --store PATH             run store (default ./<FILE's name>.sqlite); this file's unfinished run in it is resumed
  --tls-cert FILE          PEM certificate: serve https:// and wss:// (with --tls-key)
  --tls-key FILE           PEM private key for --tls-cert
  --log-format pretty|json logs on stderr (default pretty)
  --log-level LEVEL        debug|info|warn|error (default info)`;

export const SIMULATE_HELP = `cohort simulate FILE --clients N [options]

Runs FILE's training run on N simulated clients in this process: real sign-in, the same engine,
strategy, secure aggregation and privacy, over an in-memory transport, with training in a pool
of worker threads. Each client holds its MNIST shard (FILE's partition over N clients).

  --clients N              simulated clients (required; 1 to 100000)
  --rounds R               rounds to run (default: FILE's rounds)
  --clients-per-round K    updates per round (default: FILE's clientsPerRound, else 10% of N, at least minClients)
  --over-select X          overrides FILE's overSelect: select ⌈K × X⌉ clients, close once K are in (default 1.3)
  --mode sync|async        overrides FILE's mode: synchronous rounds, or asynchronous FedBuff versions
  --threads T              training threads (default: the number of CPU cores)
  --store PATH             keep the run store here, e.g. for \`cohort export\` (default: a temporary file)
  --json                   print only the final summary as JSON on stdout; progress goes to stderr`;

export const EXPORT_HELP = `cohort export [--store PATH] [--run ID] [--round N] --out DIR

Writes a run's final model, or one of its stored checkpoints, as a tfjs LayersModel
(DIR/model.json + DIR/group1-shard1of1.bin, for tf.loadLayersModel), and the run's config and
per-round metrics beside it (DIR/run.json).

  --store PATH             the run store (default cohort.sqlite, as cohort serve)
  --out DIR                folder to write (required; created if missing)
  --run ID                 which run (default: the newest in the store)
  --round N                which checkpoint (default: the newest; the store keeps the last few rounds)
  --json                   print what was written as JSON`;

function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** Flags plus exactly one positional FILE. */
function fileAndFlags(command: string, argv: string[], options: FlagSpec): { file: string; values: FlagValues } {
  let parsed: { values: FlagValues; positionals: string[] };
  try {
    const result = parseArgs({ args: argv, options, strict: true, allowPositionals: true, allowNegative: true });
    parsed = { values: result.values as FlagValues, positionals: result.positionals };
  } catch (error) {
    throw new CohortError('E_CLI_USAGE', `cohort ${command}: ${(error as Error).message.split('\n')[0]} (see cohort ${command} --help)`);
  }
  const [file, extra] = parsed.positionals;
  if (file === undefined) throw new CohortError('E_CLI_USAGE', `cohort ${command}: which run file? (cohort ${command} FILE …)`);
  if (extra !== undefined) throw new CohortError('E_CLI_USAGE', `cohort ${command}: unexpected argument '${extra}' (one run file at a time)`);
  return { file, values: parsed.values };
}

export async function runCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return void console.log(RUN_HELP), 0;
  const { file, values } = fileAndFlags('run', argv, {
    'local-workers': { type: 'string' },
    'over-select': { type: 'string' },
    json: { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string' },
    store: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'log-format': { type: 'string' },
    'log-level': { type: 'string' },
  });
  const localWorkers = intFlag(values, 'local-workers', 0, 0, 64);
  const tlsCert = stringFlag(values, 'tls-cert');
  const tlsKey = stringFlag(values, 'tls-key');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new CohortError('E_CLI_USAGE', '--tls-cert and --tls-key must be given together');
  const port = intFlag(values, 'port', 8787, 0, 65_535);
  const host = stringFlag(values, 'host') ?? '127.0.0.1';
  const logFormat = parseLogFormat(stringFlag(values, 'log-format'));
  const logLevel = parseLogLevel(stringFlag(values, 'log-level'));

  const loadedFile = loadRunFile(file);
  if (loadedFile.simulation) process.stderr.write(`cohort: note: ${file}'s simulation block is ignored: only cohort simulate reads it\n`);
  const plan = toRunPlan(loadedFile, { localWorkers, overSelect: overSelectFlag(values) });
  if (plan.data === 'local' && localWorkers > 0) {
    throw new CohortError('E_CLI_USAGE', `--local-workers starts MNIST demo workers, but ${file} says data: local (workers bring their own data with cohort worker --data DIR)`);
  }
  const storePath = stringFlag(values, 'store') ?? `${basename(file, extname(file))}.sqlite`;
  const { resumes } = checkStoreForRunFile(storePath, plan.config);
  if (resumes) process.stderr.write(`cohort: resuming run ${resumes} of ${file} from ${storePath}\n`);
  const needed = Math.max(plan.config.minClients, plan.config.clientsPerRound ?? 0);
  if (localWorkers > 0 && localWorkers < needed) {
    process.stderr.write(`cohort: note: rounds need ${needed} workers and --local-workers starts ${localWorkers}; the run waits for ${needed - localWorkers} more to join\n`);
  }

  const { runServe } = await import('../coordinator/cli/serve.js');
  // `runPlan` carries what RunConfig cannot hold yet (federated evaluation) to the lead's wiring.
  const options: ServeOptions & { runPlan: RunPlan } = {
    host,
    port,
    storePath,
    config: plan.config,
    tls: tlsCert && tlsKey ? { certFile: tlsCert, keyFile: tlsKey } : undefined,
    localWorkers,
    limits: {},
    json: values.json === true,
    logFormat,
    logLevel,
    ledger: plan.ledger,
    runPlan: plan,
  };
  return runServe(options);
}

/** `--mode sync|async`: overrides the file's mode. */
function modeFlag(mode: string | undefined): 'sync' | 'async' | undefined {
  if (mode === undefined || mode === 'sync' || mode === 'async') return mode;
  throw new CohortError('E_CLI_USAGE', `--mode expects "sync" or "async", got '${mode}'`);
}

export async function simulateCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return void console.log(SIMULATE_HELP), 0;
  const { file, values } = fileAndFlags('simulate', argv, {
    clients: { type: 'string' },
    rounds: { type: 'string' },
    'clients-per-round': { type: 'string' },
    'over-select': { type: 'string' },
    mode: { type: 'string' },
    threads: { type: 'string' },
    store: { type: 'string' },
    json: { type: 'boolean' },
  });
  const mode = modeFlag(stringFlag(values, 'mode'));
  if (values.clients === undefined) throw new CohortError('E_CLI_USAGE', 'cohort simulate: --clients N is required');
  const clients = intFlag(values, 'clients', 0, 1, 100_000);
  const rounds = intFlag(values, 'rounds', undefined, 1, 100_000);
  const threads = intFlag(values, 'threads', undefined, 1, 256);
  const json = values.json === true;
  const loaded = loadRunFile(file);
  const secure = loaded.secureAggregation !== false;
  // McMahan et al.'s C = 0.1 unless the file or the flag says otherwise; never fewer than a round needs.
  const fallback = Math.min(clients, Math.max(loaded.minClients ?? (secure ? 3 : 1), Math.ceil(clients / 10)));
  const clientsPerRound = intFlag(values, 'clients-per-round', loaded.clientsPerRound ?? fallback, 1, clients);
  const plan: RunPlan = { ...toRunPlan(loaded, { population: clients, rounds, clientsPerRound, overSelect: overSelectFlag(values), mode }), ledger: undefined };
  const out = json ? process.stderr : process.stdout;
  if (loaded.chain || loaded.rewards?.budget !== undefined) out.write('note: the chain and the budget are ignored: simulated clients are not paid (rewardShare is computed)\n');
  if (loaded.rewards?.quality) out.write('note: contribution scoring on (rewards.quality): rewardShare counts declared work × quality factor\n');

  const { simulate } = await import('../coordinator/simulate/simulate.js');
  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const summary = await simulate({
      plan,
      clients,
      threads,
      storePath: stringFlag(values, 'store'),
      print: (line) => out.write(`${line}\n`),
      log: (level, message) => {
        if (level === 'warn' || level === 'error') process.stderr.write(`[${level}] ${message}\n`);
      },
      signal: controller.signal,
      contributionCap: loaded.rewards?.contributionCap,
    });
    if (json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      const acc = summary.accuracy === null ? 'n/a' : `${(summary.accuracy * 100).toFixed(2)}%`;
      const privacy = summary.privacy ? `, ε = ${summary.privacy.epsilon.toFixed(3)} at δ = ${summary.privacy.delta}` : '';
      out.write(`\n${summary.status}: ${summary.rounds} rounds, accuracy ${acc}${privacy}, ${summary.participatingClients} of ${summary.clients} clients took part, ${(summary.elapsedMs / 1000).toFixed(1)} s (${summary.reason})\n`);
    }
    return summary.status === 'failed' ? 1 : 0;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

export async function exportCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return void console.log(EXPORT_HELP), 0;
  let values: FlagValues;
  try {
    values = parseArgs({
      args: argv,
      options: { store: { type: 'string' }, out: { type: 'string' }, run: { type: 'string' }, round: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values as FlagValues;
  } catch (error) {
    throw new CohortError('E_CLI_USAGE', `cohort export: ${(error as Error).message.split('\n')[0]} (see cohort export --help)`);
  }
  // The default is `cohort serve`'s store; `cohort run FILE` keeps its own next to the file's name.
  const storePath = stringFlag(values, 'store') ?? 'cohort.sqlite';
  const outDir = stringFlag(values, 'out');
  if (!existsSync(storePath)) throw new CohortError('E_CLI_USAGE', `cohort export: no run store at ${storePath} (pass --store PATH)`);
  if (outDir === undefined) throw new CohortError('E_CLI_USAGE', 'cohort export: --out DIR is required');
  const { exportRun } = await import('../coordinator/export/export-run.js');
  const result = await exportRun({ storePath, outDir, runId: stringFlag(values, 'run'), round: intFlag(values, 'round', undefined, 1, 1_000_000) });
  if (values.json === true) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const which = result.final ? 'final model' : 'checkpoint';
    console.log(`exported run ${result.runId}, round ${result.round} (${which}, ${result.parameters.toLocaleString('en-US')} parameters) to ${outDir}:`);
    for (const f of result.files) console.log(`  ${f}`);
  }
  return 0;
}
