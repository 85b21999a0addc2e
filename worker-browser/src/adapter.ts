/**
 * What the browser says about its GPU: the WebGPU adapter's info (vendor, architecture, whether it
 * is a fallback adapter such as SwiftShader, i.e. the CPU pretending), and WebGL's renderer.
 */
import type { AdapterInfo } from './bridge.js';

export async function webgpuAdapterInfo(): Promise<{ adapter: AdapterInfo | null; why?: string }> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    return {
      adapter: null,
      why: globalThis.isSecureContext ? 'this browser has no WebGPU (navigator.gpu)' : 'WebGPU needs a secure origin (https or localhost)',
    };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { adapter: null, why: `requestAdapter failed: ${String(error)}` };
  }
  if (!adapter) return { adapter: null, why: 'WebGPU offers no adapter (blocklisted GPU or no driver)' };
  // Chrome ≥ 114 has adapter.info; isFallbackAdapter moved from the adapter into info later.
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  return {
    adapter: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      isFallbackAdapter: info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    },
  };
}

export function describeAdapter(info: AdapterInfo): string {
  const name = [info.vendor, info.architecture, info.device, info.description].filter((s) => s !== '').join(' ') || 'unnamed adapter';
  return info.isFallbackAdapter ? `${name} (fallback adapter: software, not a GPU)` : name;
}

/** WebGL's unmasked renderer string, where the browser exposes it. */
export function webglRenderer(): string | undefined {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return undefined;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return typeof renderer === 'string' ? renderer : undefined;
  } catch {
    return undefined;
  }
}
