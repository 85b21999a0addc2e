/**
 * The tab's LocalDataset: either its demo MNIST shard, fetched from the coordinator (public data,
 * partitioned server-side from the run's partition spec), or the volunteer's own examples, read
 * from IndexedDB. The second never touches the network.
 */
import type { LocalDataset } from '../../../core/data/dataset.js';
import { parseIdxImages, parseIdxLabels } from '../../../core/data/idx.js';
import { InMemoryDataset } from '../../../core/data/in-memory.js';
import { CohortError } from '../../../core/protocol/errors.js';
import type { DataSource } from '../bridge.js';
import { loadDataset } from '../storage.js';

const MNIST_CLASSES = 10;

export async function loadData(source: DataSource): Promise<LocalDataset> {
  return source.kind === 'demo-shard' ? loadDemoShard(source) : loadLocal();
}

/**
 * The shard endpoint answers with two IDX files back to back (images, then labels), the format
 * MNIST itself ships in, so core/data/idx.ts parses both.
 */
async function loadDemoShard(source: Extract<DataSource, { kind: 'demo-shard' }>): Promise<LocalDataset> {
  const url = new URL(source.url);
  url.searchParams.set('index', String(source.index));
  url.searchParams.set('count', String(source.count));
  const response = await fetch(url);
  if (!response.ok) {
    throw new CohortError('E_DATA_INVALID', `demo shard ${source.index}/${source.count}: ${response.status} ${await response.text().catch(() => '')}`.trim());
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength < 16) throw new CohortError('E_DATA_INVALID', 'demo shard response is too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const imagesLength = 16 + view.getUint32(4) * view.getUint32(8) * view.getUint32(12);
  const images = parseIdxImages(bytes.subarray(0, imagesLength), 'demo shard images');
  const labels = parseIdxLabels(bytes.subarray(imagesLength), 'demo shard labels');
  return new InMemoryDataset({ pixels: images.pixels, labels, inputShape: [images.rows, images.cols, 1], numClasses: MNIST_CLASSES });
}

async function loadLocal(): Promise<LocalDataset> {
  const stored = await loadDataset();
  if (!stored) throw new CohortError('E_DATA_INVALID', 'no local data: pick a CSV or image folders on the page first');
  return new InMemoryDataset({ pixels: stored.pixels, labels: stored.labels, inputShape: stored.inputShape, numClasses: stored.numClasses });
}
