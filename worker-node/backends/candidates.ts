/**
 * Loading each tfjs backend a Node worker can use. Every loader reports why it cannot load rather
 * than throwing, and the result is cached: a module or GPU adapter is set up once per process.
 */
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'webgpu' | 'wasm' | 'cpu';
export type BackendRequest = 'auto' | BackendName;

/** Fastest first, as a rule of thumb; the benchmark has the final word. */
export const AUTO_ORDER: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu'];

export interface LoadedBackend {
  name: BackendName;
  /** The name tfjs knows it by (`tf.setBackend`). */
  tfjsBackend: string;
  /** Runs on a GPU: its first steps compile kernels, so they are never used as a measurement. */
  gpu: boolean;
  /** One line for logs and the coordinator, e.g. `mesa software llvmpipe-… (software)`. */
  adapter?: string;
  /** The same, field by field (for `cohort doctor`). */
  adapterInfo?: AdapterInfo;
}

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, Dawn's fallback adapter). */
  software: boolean;
}

export type LoadResult = { ok: true; backend: LoadedBackend } | { ok: false; reason: string };

const cache = new Map<BackendName, Promise<LoadResult>>();

/** The first non-empty line of an error, for one-line reasons. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n').find((l) => l.trim() !== '') ?? text).trim().slice(0, 300);
}

function isNotInstalled(err: unknown, pkg: string): boolean {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(pkg);
}

/** A specifier TypeScript does not resolve, for optional packages that may be absent. */
function importOptional(specifier: string): Promise<unknown> {
  return import(specifier) as Promise<unknown>;
}

async function loadTfjsNode(name: 'tfjs-node-gpu' | 'tfjs-node'): Promise<LoadResult> {
  const pkg = `@tensorflow/${name}`;
  if (name === 'tfjs-node') {
    const gpu = await cache.get('tfjs-node-gpu');
    if (gpu?.ok) return { ok: false, reason: 'not needed (tfjs-node-gpu provides the same backend)' };
  }
  try {
    await importOptional(pkg);
  } catch (err) {
    if (isNotInstalled(err, pkg)) return { ok: false, reason: 'not installed' };
    // npm installs it even when its install script fails: then the binding was never built.
    if (/tfjs_binding\.node\) can not be found/.test(firstLine(err))) {
      return { ok: false, reason: 'installed, but its native binding was never built (its libtensorflow download fails)' };
    }
    // Typically a missing or mismatched libtensorflow.
    return { ok: false, reason: `failed to load: ${firstLine(err)}` };
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    return { ok: false, reason: 'loaded, but registered no "tensorflow" backend with this copy of tfjs (version mismatch?)' };
  }
  return { ok: true, backend: { name, tfjsBackend: 'tensorflow', gpu: name === 'tfjs-node-gpu' } };
}

export interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  isFallbackAdapter?: boolean;
}
interface WebgpuModule {
  create(options: string[]): { requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null> };
  globals: object;
}

const SOFTWARE_RENDERERS = /llvmpipe|lavapipe|swiftshader/i;

export function adapterInfoOf(adapter: GpuAdapterLike): AdapterInfo {
  const info = adapter.info ?? {};
  const field = (v: unknown): string => (typeof v === 'string' ? v : '');
  const described = [info.architecture, info.device, info.description].map(field).join(' ');
  return {
    vendor: field(info.vendor),
    architecture: field(info.architecture),
    device: field(info.device),
    description: field(info.description),
    software: adapter.isFallbackAdapter === true || info.architecture === 'software' || SOFTWARE_RENDERERS.test(described),
  };
}

export function describeAdapter(info: AdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p) => p !== '');
  const text = [...new Set(parts)].join(' ') || 'unknown adapter';
  return info.software ? `${text} (software)` : text;
}

async function loadWebgpu(): Promise<LoadResult> {
  let mod: WebgpuModule;
  try {
    mod = (await importOptional('webgpu')) as WebgpuModule;
  } catch (err) {
    if (isNotInstalled(err, 'webgpu')) return { ok: false, reason: 'not installed (npm package webgpu)' };
    return { ok: false, reason: `Dawn failed to load: ${firstLine(err)}` };
  }
  let adapter: GpuAdapterLike | null;
  const gpu = mod.create([]);
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, reason: `no adapter: ${firstLine(err)}` };
  }
  if (adapter === null) {
    // On Linux Dawn needs a Vulkan driver (ICD) it accepts; Dawn prints why it rejected one on stderr.
    return { ok: false, reason: 'no adapter (no Vulkan driver that Dawn accepts; its rejections are on stderr)' };
  }
  // tfjs-backend-webgpu looks for navigator.gpu and the GPU* constants when it is imported.
  Object.assign(globalThis, mod.globals);
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!('gpu' in g.navigator) || (g.navigator as { gpu?: unknown }).gpu === undefined) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (err) {
    return { ok: false, reason: `tfjs-backend-webgpu failed to load: ${firstLine(err)}` };
  }
  const adapterInfo = adapterInfoOf(adapter);
  return { ok: true, backend: { name: 'webgpu', tfjsBackend: 'webgpu', gpu: true, adapter: describeAdapter(adapterInfo), adapterInfo } };
}

async function loadWasm(): Promise<LoadResult> {
  try {
    // In Node it reads its .wasm files from its own dist folder; threads are disabled there.
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return { ok: false, reason: `failed to load: ${firstLine(err)}` };
  }
  return { ok: true, backend: { name: 'wasm', tfjsBackend: 'wasm', gpu: false } };
}

/** Loads (once) the packages behind `name`. Does not switch tfjs to it. */
export function loadCandidate(name: BackendName): Promise<LoadResult> {
  let result = cache.get(name);
  if (result === undefined) {
    switch (name) {
      case 'tfjs-node-gpu':
      case 'tfjs-node':
        result = loadTfjsNode(name);
        break;
      case 'webgpu':
        result = loadWebgpu();
        break;
      case 'wasm':
        result = loadWasm();
        break;
      case 'cpu':
        result = Promise.resolve({ ok: true, backend: { name: 'cpu', tfjsBackend: 'cpu', gpu: false } });
        break;
    }
    cache.set(name, result);
  }
  return result;
}

/**
 * Switches tfjs to `backend`. tf.setBackend reports failure through its return value (tfjs would
 * otherwise carry on silently on another backend), so both it and getBackend are checked.
 */
export async function activate(backend: LoadedBackend): Promise<{ ok: true } | { ok: false; reason: string }> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(backend.tfjsBackend);
  } catch (err) {
    return { ok: false, reason: `failed to initialise: ${firstLine(err)}` };
  }
  if (!ok || tf.getBackend() !== backend.tfjsBackend) {
    return { ok: false, reason: `failed to initialise (tf.setBackend('${backend.tfjsBackend}') returned false)` };
  }
  return { ok: true };
}

