/**
 * What the Vulkan loader will offer Dawn: the ICD manifests (one JSON file per driver) it reads,
 * and which of them is Mesa's software lavapipe. Dawn itself only says "no adapter" and prints its
 * reasons on stderr, so `cohort doctor` uses this to give a reason and a fix.
 *
 * The worker does not set VK_ICD_FILENAMES itself: the loader already scans the standard folders
 * (where Debian's mesa-vulkan-drivers puts lavapipe), and pinning one file would hide real GPUs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface IcdManifest {
  path: string;
  /** The driver library the manifest names ('' when unreadable). */
  library: string;
  lavapipe: boolean;
}

export interface VulkanDrivers {
  /** The variable that replaces the search, when set (VK_DRIVER_FILES, or the older VK_ICD_FILENAMES). */
  override: string | null;
  manifests: IcdManifest[];
  /** Debian's mesa-vulkan-drivers version, when dpkg knows it. */
  mesaPackage: string | null;
}

/** Mesa's lavapipe below this lacks shader*ArrayDynamicIndexing features that Dawn requires. */
export const MIN_MESA_FOR_DAWN = '25.0';

function searchFolders(env: NodeJS.ProcessEnv): string[] {
  const xdgConfig = (env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':').filter(Boolean);
  const xdgData = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').filter(Boolean);
  return [...new Set([...xdgConfig.map((d) => join(d, 'vulkan/icd.d')), '/etc/vulkan/icd.d', ...xdgData.map((d) => join(d, 'vulkan/icd.d'))])];
}

function readManifest(path: string): IcdManifest {
  let library = '';
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { ICD?: { library_path?: unknown } };
    if (typeof json.ICD?.library_path === 'string') library = json.ICD.library_path;
  } catch {
    // unreadable or not JSON: the loader skips it too
  }
  return { path, library, lavapipe: /lvp|lavapipe/i.test(path) || /libvulkan_lvp/.test(library) };
}

function debianPackageVersion(pkg: string): string | null {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 });
    return out.trim() || null;
  } catch {
    return null;
  }
}

export function findVulkanDrivers(env: NodeJS.ProcessEnv = process.env): VulkanDrivers {
  const override = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES || null;
  const files: string[] = [];
  if (override !== null) {
    files.push(...override.split(':').filter((f) => f !== '' && existsSync(f)));
  } else {
    for (const folder of searchFolders(env)) {
      if (!existsSync(folder)) continue;
      for (const name of readdirSync(folder).sort()) if (name.endsWith('.json')) files.push(join(folder, name));
    }
  }
  return { override, manifests: files.map(readManifest), mesaPackage: debianPackageVersion('mesa-vulkan-drivers') };
}

/** Whether Debian version `a` is older than `b`, by dpkg's rules; null when dpkg is absent. */
function dpkgOlder(a: string, b: string): boolean | null {
  try {
    execFileSync('dpkg', ['--compare-versions', a, 'lt', b], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch (err) {
    return (err as { status?: number }).status === 1 ? false : null;
  }
}

/** The command that gives Dawn an adapter, for a machine where it found none. */
export function vulkanFixHint(drivers: VulkanDrivers): string {
  const software = 'for software Vulkan on Debian 12: add bookworm-backports and `apt-get install -t bookworm-backports mesa-vulkan-drivers` (what .ci/run does)';
  const gpu = 'for a GPU: install its Vulkan driver (NVIDIA: the driver\'s libnvidia-gl / nvidia-vulkan-icd package; AMD/Intel: mesa-vulkan-drivers) and libvulkan1';
  if (drivers.override !== null && drivers.manifests.length === 0) {
    return `VK_ICD_FILENAMES/VK_DRIVER_FILES (${drivers.override}) names no existing file: unset it or point it at an ICD JSON; ${gpu}`;
  }
  if (drivers.manifests.length === 0) return `no Vulkan driver is installed; ${gpu}; ${software}`;
  if (drivers.mesaPackage !== null && dpkgOlder(drivers.mesaPackage, MIN_MESA_FOR_DAWN) === true) {
    return `Mesa ${drivers.mesaPackage}'s lavapipe is too old for Dawn (it lacks shaderSampledImageArrayDynamicIndexing and shaderStorageImageArrayDynamicIndexing); ${software}; ${gpu}`;
  }
  return `Dawn rejected every Vulkan driver (${drivers.manifests.map((m) => m.path).join(', ')}); its reasons are on stderr (run with 2>&1); ${gpu}`;
}
