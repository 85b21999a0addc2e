/** For a backend that did not load: the command (or step) that most likely makes it load. */
import type { BackendName } from '../backends/candidates.js';
import { vulkanFixHint, type VulkanDrivers } from '../backends/vulkan-icd.js';

const NATIVE_WHY = 'its install script downloads libtensorflow 2.9.1, which upstream now answers with 403 (tensorflow/tfjs#8742)';

export function fixHint(name: BackendName, reason: string, drivers: VulkanDrivers): string | undefined {
  switch (name) {
    case 'tfjs-node-gpu':
      if (reason.startsWith('not needed')) return undefined;
      if (reason === 'not installed') {
        return `on a machine with an NVIDIA GPU, CUDA 11.2 and cuDNN 8.1: \`npm install --ignore-scripts @tensorflow/tfjs-node-gpu@4.22.0\`, then \`cohort setup-native --gpu --from DIR\` with DIR an unpacked \`tensorflow\` pip wheel (${NATIVE_WHY})`;
      }
      return '`cohort setup-native --gpu --from DIR` rebuilds the binding against the libtensorflow in DIR (an unpacked `tensorflow` pip wheel or a libtensorflow folder)';
    case 'tfjs-node':
      if (reason.startsWith('not needed')) return undefined;
      if (reason === 'not installed') {
        return `\`cohort setup-native --from DIR\` with DIR an unpacked \`tensorflow-cpu\` pip wheel (\`pip download tensorflow-cpu\`, then unzip) or a libtensorflow folder: it installs and builds @tensorflow/tfjs-node against it (${NATIVE_WHY})`;
      }
      return '`cohort setup-native --from DIR` rebuilds the binding against the libtensorflow in DIR (an unpacked `tensorflow-cpu` pip wheel or a libtensorflow folder)';
    case 'webgpu':
      if (reason.startsWith('not installed')) return '`npm install webgpu` (Dawn for Node; prebuilt for linux-x64, linux-arm64, macOS and Windows)';
      if (reason.startsWith('no adapter')) return vulkanFixHint(drivers);
      return 'reinstall: `npm install webgpu @tensorflow/tfjs-backend-webgpu@4.22.0`';
    case 'wasm':
      return 'reinstall: `npm install @tensorflow/tfjs-backend-wasm@4.22.0`';
    case 'cpu':
      return undefined;
  }
}
