/**
 * `cohort` command dispatch. Each command's flags are parsed and checked here, then handed to the
 * module that does the work, so a bad flag fails with one line and exit code 2 before anything runs.
 */
import { CohortError } from '../core/protocol/errors.js';
import { RUN_FLAGS, RUN_FLAGS_HELP, runConfigFromFlags } from '../coordinator/cli/run-flags.js';
import { enumFlag, intFlag, parseFlags, shardFlag, stringFlag, wsUrlListFlag, type FlagValues } from '../coordinator/cli/flags.js';
import { LEDGER_FLAGS, LEDGER_FLAGS_HELP, demoChainFromFlags, ledgerConfigFromFlags } from '../coordinator/ledger/ledger-flags.js';
import { parseLogFormat, parseLogLevel } from '../coordinator/log.js';
import { testFreeloader, testSlowdown } from '../worker-node/test-hooks.js';

const VERSION = '0.1.0';
const BACKENDS = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu'] as const;

const HELP = `cohort ${VERSION}: federated learning across browsers and Node workers

Usage:
  cohort demo   [options]   everything on this machine: coordinator + Node workers on MNIST
  cohort serve  [options]   a long-running coordinator
  cohort worker --coordinator URL --key FILE [options]   a Node worker that joins a coordinator
  cohort run FILE [--local-workers N] [--json]            cohort serve driven by a run file (JSON or YAML)
  cohort simulate FILE --clients N [--rounds R] [--json]  N in-memory clients through the same engine
  cohort export --store PATH [--run ID] [--round N] --out DIR   the model as a tfjs LayersModel
  cohort ledger deploy|create-run|fund|status|withdraw   a researcher's chain work
  cohort rewards --rpc-url URL --ledger ADDRESS --run N --key FILE [--claim]   a worker's rewards
  cohort ledger deploy|create-run|fund|status|withdraw   a researcher's chain work (any EVM network)
  cohort rewards --rpc-url URL --ledger ADDR --run N --key FILE [--claim]   a worker's rewards
  cohort doctor [--model 2nn|cnn] [--json]   which tfjs backends load here, how fast, and how to fix the others
  cohort setup-native --from DIR [--gpu]     build tfjs-node against a libtensorflow you have (pip wheel or folder)
  cohort help COMMAND       the options of one command

npm start is \`cohort demo --target-accuracy 0.97\`.`;

const DEMO_HELP = `cohort demo [options]

  --workers N              Node worker processes, each with its own MNIST shard (default 4)
  --browser-workers M      headless Chromium tabs that join as browser workers (default 0)
  --store PATH             run store file (default: a fresh temporary file)
  --port N                 coordinator port (default 0: a free port)
  --backend NAME           force the workers' tfjs backend: ${BACKENDS.join('|')} (default auto)
  --json                   print only one JSON summary on stdout; progress goes to stderr
  --verbose                also show coordinator and worker logs (stderr)
  --log-format pretty|json coordinator logs on stderr: readable lines (default) or JSON lines
  --no-chain               no ledger: skip the embedded anvil chain and the rewards
${LEDGER_FLAGS_HELP}
${RUN_FLAGS_HELP}`;

const SERVE_HELP = `cohort serve [options]

  --host HOST              interface to listen on (default 127.0.0.1)
  --port N                 port (default 8787)
  --store PATH             run store (default ./cohort.sqlite); an unfinished run in it is resumed
  --tls-cert FILE          PEM certificate: serve https:// and wss:// (with --tls-key)
  --tls-key FILE           PEM private key for --tls-cert
  --public-url URL         a ws:// or wss:// URL workers reach this coordinator at (repeatable or
                           comma-separated); a sign-in must be signed for one of them. Default:
                           what it listens on (ws://HOST:PORT/ws, or wss:// with TLS)
  --local-workers N        also start N Node workers here, on MNIST shards i/N (default 0)
  --max-frame-bytes N      largest accepted frame (default 67108864)
  --max-connections N      simultaneous connections (default 2000)
  --max-connections-per-ip N   simultaneous connections from one IPv4 address or IPv6 /64,
                           loopback included (default 32; --local-workers adds its own)
  --max-messages-per-second N   per-connection message rate (default 200)
  --json                   print the run summary as JSON on stdout when the run ends
  --log-format pretty|json logs on stderr: readable lines (default) or JSON lines
  --log-level LEVEL        debug|info|warn|error (default info)
  --admin-token-file PATH  where the dashboard's admin token is written, mode 0600 (default <store>.admin-token)
${LEDGER_FLAGS_HELP}
${RUN_FLAGS_HELP}`;

const WORKER_HELP = `cohort worker --coordinator URL --key FILE [options]

  --coordinator URL        the coordinator's WebSocket URL, ws://HOST:PORT/ws or wss://HOST:PORT/ws
  --key FILE               this worker's Ethereum key; created with mode 0600 if missing
  --shard i/n              train on MNIST demo shard i of n (default 0/1), split as the run says
  --data DIR               train on local data instead: IDX files, or PNGs in one folder per label
  --backend NAME           ${BACKENDS.join('|')} (default auto: fastest that can train the model)
  --require-secure-aggregation   refuse (E_SECAGG_REQUIRED) a run without secure aggregation
                           (default off: plain runs are legitimate, e.g. robust strategies);
                           a run that announced it can never be downgraded either way
  --test-slowdown F        TEST ONLY: every local step takes F× as long (also COHORT_TEST_SLOWDOWN=F)
  --test-freeloader        TEST ONLY: never train; declare an honest round's examples and send a
                           zero delta (also COHORT_TEST_FREELOADER=1)
  --quiet                  log only errors`;

function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

async function demo(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return void console.log(DEMO_HELP), 0;
  const values = parseFlags('demo', argv, {
    ...RUN_FLAGS,
    workers: { type: 'string' },
    'browser-workers': { type: 'string' },
    store: { type: 'string' },
    port: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
    'log-format': { type: 'string' },
    ...LEDGER_FLAGS,
    chain: { type: 'boolean' },
  });
  const workers = intFlag(values, 'workers', 4, 0, 64);
  const browserWorkers = intFlag(values, 'browser-workers', 0, 0, 16);
  if (workers + browserWorkers < 1) throw new CohortError('E_CLI_USAGE', '--workers and --browser-workers add up to 0: the demo needs at least one worker');
  const chain = values.chain === false ? false : demoChainFromFlags(values);
  const clientsPerRound = intFlag(values, 'clients-per-round', undefined, 1, workers + browserWorkers);
  const config = runConfigFromFlags(values, { minClients: clientsPerRound ?? workers + browserWorkers, shards: workers + browserWorkers });
  const { runDemo } = await import('./demo.js');
  return runDemo({
    workers,
    browserWorkers,
    config,
    storePath: stringFlag(values, 'store'),
    port: intFlag(values, 'port', 0, 0, 65_535),
    backend: enumFlag(values, 'backend', BACKENDS, 'auto'),
    json: values.json === true,
    verbose: values.verbose === true,
    logFormat: parseLogFormat(stringFlag(values, 'log-format')),
    chain,
  });
}

async function serve(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return void console.log(SERVE_HELP), 0;
  const values = parseFlags('serve', argv, {
    ...RUN_FLAGS,
    host: { type: 'string' },
    port: { type: 'string' },
    store: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'public-url': { type: 'string', multiple: true },
    'local-workers': { type: 'string' },
    'max-frame-bytes': { type: 'string' },
    'max-connections': { type: 'string' },
    'max-connections-per-ip': { type: 'string' },
    'max-messages-per-second': { type: 'string' },
    json: { type: 'boolean' },
    'log-format': { type: 'string' },
    'log-level': { type: 'string' },
    'admin-token-file': { type: 'string' },
    ...LEDGER_FLAGS,
  });
  const localWorkers = intFlag(values, 'local-workers', 0, 0, 64);
  const tlsCert = stringFlag(values, 'tls-cert');
  const tlsKey = stringFlag(values, 'tls-key');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new CohortError('E_CLI_USAGE', '--tls-cert and --tls-key must be given together');
  }
  // Secure aggregation needs 3 workers per round; plain FedAvg can start with one.
  const config = runConfigFromFlags(values, { minClients: Math.max(values['secure-agg'] === false ? 1 : 3, localWorkers), shards: localWorkers || undefined });
  const ledger = ledgerConfigFromFlags(values, { rounds: config.rounds });
  const maxFrameBytes = intFlag(values, 'max-frame-bytes', undefined, 1024, 2 ** 31 - 1);
  const maxConnections = intFlag(values, 'max-connections', undefined, 1, 1_000_000);
  const maxConnectionsPerIp = intFlag(values, 'max-connections-per-ip', undefined, 1, 1_000_000);
  const maxPerSecond = intFlag(values, 'max-messages-per-second', undefined, 1, 1_000_000);
  const { runServe } = await import('../coordinator/cli/serve.js');
  return runServe({
    host: stringFlag(values, 'host') ?? '127.0.0.1',
    port: intFlag(values, 'port', 8787, 0, 65_535),
    storePath: stringFlag(values, 'store') ?? 'cohort.sqlite',
    tls: tlsCert && tlsKey ? { certFile: tlsCert, keyFile: tlsKey } : undefined,
    publicUrls: wsUrlListFlag(values, 'public-url'),
    localWorkers,
    config,
    json: values.json === true,
    logFormat: parseLogFormat(stringFlag(values, 'log-format')),
    logLevel: parseLogLevel(stringFlag(values, 'log-level')),
    adminTokenFile: stringFlag(values, 'admin-token-file'),
    ledger,
    limits: {
      ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
      ...(maxConnections === undefined ? {} : { maxConnections }),
      ...(maxConnectionsPerIp === undefined ? {} : { maxConnectionsPerIp }),
      ...(maxPerSecond === undefined ? {} : { maxMessagesPerWindow: maxPerSecond, rateWindowMs: 1000 }),
    },
  });
}

async function worker(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return void console.log(WORKER_HELP), 0;
  const values: FlagValues = parseFlags('worker', argv, {
    coordinator: { type: 'string' },
    key: { type: 'string' },
    shard: { type: 'string' },
    data: { type: 'string' },
    backend: { type: 'string' },
    'require-secure-aggregation': { type: 'boolean' },
    'test-slowdown': { type: 'string' },
    'test-freeloader': { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  const coordinator = stringFlag(values, 'coordinator');
  const keyFile = stringFlag(values, 'key');
  if (!coordinator) throw new CohortError('E_CLI_USAGE', 'cohort worker: --coordinator URL is required');
  if (!/^wss?:\/\/[^\s]+$/.test(coordinator)) throw new CohortError('E_CLI_USAGE', `--coordinator: expected a ws:// or wss:// URL, got '${coordinator}'`);
  if (!keyFile) throw new CohortError('E_CLI_USAGE', 'cohort worker: --key FILE is required');
  const shard = shardFlag(values, 'shard');
  const dataDir = stringFlag(values, 'data');
  if (shard && dataDir) throw new CohortError('E_CLI_USAGE', '--shard and --data cannot be combined');
  const backend = enumFlag(values, 'backend', BACKENDS, 'auto');
  const quiet = values.quiet === true;
  const slowdown = testSlowdown(stringFlag(values, 'test-slowdown'));
  // A worker started by a local coordinator leaves when that coordinator's process dies.
  if (process.env.COHORT_EXIT_WITH_PARENT === '1' && process.connected) process.once('disconnect', () => process.exit(0));
  const { runWorker } = await import('../worker-node/run-worker.js');
  const end = await runWorker({
    coordinator,
    keyFile,
    shard,
    dataDir,
    backend,
    requireSecureAggregation: values['require-secure-aggregation'] === true,
    testSlowdown: slowdown,
    testFreeloader: testFreeloader(values['test-freeloader'] === true),
    log: (line) => {
      if (!quiet) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    },
  });
  if (end.error) {
    process.stderr.write(`cohort worker: ${end.error.code}: ${end.error.message}\n`);
    return 1;
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'demo':
        return await demo(rest);
      case 'serve':
        return await serve(rest);
      case 'worker':
        return await worker(rest);
      case 'ledger':
        return await (await import('./ledger-commands.js')).ledgerCommand(rest);
      case 'rewards':
        return await (await import('./ledger-commands.js')).rewardsCommand(rest);
      case 'run':
        return await (await import('./research-commands.js')).runCommand(rest);
      case 'simulate':
        return await (await import('./research-commands.js')).simulateCommand(rest);
      case 'export':
        return await (await import('./research-commands.js')).exportCommand(rest);
      case 'doctor':
        return await (await import('./doctor.js')).doctorCommand(rest);
      case 'setup-native':
        return await (await import('./setup-native.js')).setupNativeCommand(rest);
      case 'help':
        if (rest[0] === 'run' || rest[0] === 'simulate' || rest[0] === 'export') {
          const { RUN_HELP, SIMULATE_HELP, EXPORT_HELP } = await import('./research-commands.js');
          console.log({ run: RUN_HELP, simulate: SIMULATE_HELP, export: EXPORT_HELP }[rest[0]]);
          return 0;
        }
        if (rest[0] === 'doctor') return void console.log((await import('./doctor.js')).DOCTOR_HELP), 0;
        if (rest[0] === 'setup-native') return void console.log((await import('./setup-native.js')).SETUP_NATIVE_HELP), 0;
        if (rest[0] === 'ledger' || rest[0] === 'rewards') {
          const { LEDGER_HELP, REWARDS_HELP } = await import('./ledger-commands.js');
          console.log(rest[0] === 'ledger' ? LEDGER_HELP : REWARDS_HELP);
          return 0;
        }
        console.log(({ demo: DEMO_HELP, serve: SERVE_HELP, worker: WORKER_HELP } as Record<string, string>)[rest[0] ?? ''] ?? HELP);
        return 0;
      case '--version':
      case '-v':
        console.log(VERSION);
        return 0;
      case undefined:
      case '--help':
      case '-h':
        console.log(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new CohortError('E_CLI_USAGE', `unknown command '${command}' (try: cohort help)`);
    }
  } catch (error) {
    if (error instanceof CohortError) {
      process.stderr.write(`cohort: ${error.code}: ${error.message}\n`);
      return error.code === 'E_CLI_USAGE' || error.code === 'E_CONFIG_INVALID' ? 2 : 1;
    }
    throw error;
  }
}
