/**
 * Finding (and, where allowed, installing) the Chromium that runs browser workers: the demo's
 * `--browser-workers`, the browser tests and the browser benchmark all go through here.
 *
 * Order: CHROME_PATH, then puppeteer's cache (puppeteer never downloads here: .puppeteerrc.cjs),
 * then Debian's /usr/lib/chromium/chromium (the binary, not the /usr/bin wrapper, which prints a
 * warning on every start). If none is found and we are root with apt, `apt-get install chromium`.
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type LaunchOptions } from 'puppeteer';
import { CohortError } from '../core/protocol/errors.js';

/**
 * Exactly these flags. `--enable-unsafe-swiftshader` gives headless Chromium a WebGPU adapter on a
 * GPU-less machine (SwiftShader, isFallbackAdapter). Never add `--use-angle=vulkan`: it loses it.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
];

export const DEBIAN_CHROMIUM = '/usr/lib/chromium/chromium';

const HOW_TO_INSTALL =
  'install Chromium (Debian/Ubuntu: `sudo apt-get install -y chromium`), or set CHROME_PATH to a Chrome or Chromium binary';

export interface FindChromiumOptions {
  /** Install Debian's chromium with apt-get when nothing is found and we are root (default true). */
  install?: boolean;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

let installing: Promise<string> | undefined;

/** The path of a Chromium binary; installs one with apt when allowed, else a CohortError saying how. */
export async function findChromium(options: FindChromiumOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const explicit = env.CHROME_PATH?.trim();
  if (explicit) {
    if (existsSync(explicit)) return explicit;
    throw new CohortError('E_BACKEND_UNAVAILABLE', `CHROME_PATH is ${explicit}, which does not exist; ${HOW_TO_INSTALL}`);
  }
  const found = puppeteerCacheChromium() ?? (existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined);
  if (found) return found;
  if (options.install === false || !canInstallWithApt()) {
    throw new CohortError('E_BACKEND_UNAVAILABLE', `no Chromium found (CHROME_PATH, puppeteer's cache, ${DEBIAN_CHROMIUM}); ${HOW_TO_INSTALL}`);
  }
  // One install per process even when several callers ask at once.
  installing ??= installWithApt(options.log ?? ((line) => process.stderr.write(`${line}\n`))).finally(() => {
    installing = undefined;
  });
  return installing;
}

/** Launches headless Chromium with CHROMIUM_FLAGS (plus `extraArgs`). */
export async function launchChromium(options: { headless?: boolean; extraArgs?: string[]; log?: (line: string) => void } & Pick<LaunchOptions, 'protocolTimeout'> = {}): Promise<Browser> {
  const executablePath = await findChromium({ log: options.log });
  return puppeteer.launch({
    executablePath,
    headless: options.headless ?? true,
    args: [...CHROMIUM_FLAGS, ...(options.extraArgs ?? [])],
    protocolTimeout: options.protocolTimeout ?? 120_000,
  });
}

/** A browser in puppeteer's cache (a machine where someone ran `npx puppeteer browsers install`). */
function puppeteerCacheChromium(): string | undefined {
  try {
    const path = puppeteer.executablePath();
    if (path && existsSync(path)) return path;
  } catch {
    // no configured browser; scan the cache below
  }
  const cache = process.env.PUPPETEER_CACHE_DIR ?? join(homedir(), '.cache', 'puppeteer');
  for (const [product, binary] of [
    ['chrome', join('chrome-linux64', 'chrome')],
    ['chromium', join('chrome-linux', 'chrome')],
    ['chrome-headless-shell', join('chrome-headless-shell-linux64', 'chrome-headless-shell')],
  ] as const) {
    const dir = join(cache, product);
    if (!existsSync(dir)) continue;
    // Newest build first: directory names end in the version number.
    for (const build of readdirSync(dir).sort().reverse()) {
      const path = join(dir, build, binary);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

function canInstallWithApt(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0 && ['/usr/bin/apt-get', '/bin/apt-get'].some((p) => existsSync(p));
}

async function installWithApt(log: (line: string) => void): Promise<string> {
  log('no Chromium found: installing Debian\'s chromium with apt-get (about 30 s)…');
  // Wait for the dpkg lock instead of failing when another install (another test file) holds it.
  const install = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', 'chromium'];
  let result = await run('apt-get', install);
  if (result.code !== 0 && /Unable to locate package|has no installation candidate/i.test(result.output)) {
    log('apt has no chromium in its lists yet: running apt-get update first…');
    const update = await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-qq']);
    if (update.code !== 0) throw installFailed('apt-get update', update.output);
    result = await run('apt-get', install);
  }
  if (result.code !== 0 || !existsSync(DEBIAN_CHROMIUM)) throw installFailed('apt-get install chromium', result.output);
  log(`installed ${DEBIAN_CHROMIUM}`);
  return DEBIAN_CHROMIUM;
}

function installFailed(what: string, output: string): CohortError {
  const tail = output.trim().split('\n').slice(-5).join('\n');
  return new CohortError('E_BACKEND_UNAVAILABLE', `${what} failed; ${HOW_TO_INSTALL}\n${tail}`);
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => resolve({ code: -1, output: error.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}
