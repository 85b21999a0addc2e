/**
 * A lab's own data from a directory, in one of two layouts:
 * - IDX files, as MNIST ships them: one file with "images" in its name (idx3-ubyte) and its
 *   partner with "labels" (idx1-ubyte). With several pairs, the one named "train" wins.
 * - One subfolder per class, named by its integer label (0/, 1/, …), holding PNG images of
 *   the expected size (28×28 by default), grayscale or colour (converted to gray).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIdxImages, parseIdxLabels } from '../../core/data/idx.js';
import { InMemoryDataset } from '../../core/data/in-memory.js';
import { CohortError } from '../../core/protocol/errors.js';
import { decodePngGray } from './png.js';

export interface DirectoryOptions {
  /** Number of classes of the run's model; defaults to the largest label + 1. */
  numClasses?: number;
  /** Required image size for PNG folders, [height, width]. Default [28, 28]. */
  imageSize?: readonly [number, number];
}

function invalid(message: string): never {
  throw new CohortError('E_DATA_INVALID', message);
}

function classCount(labels: ArrayLike<number>, requested: number | undefined): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) max = Math.max(max, labels[i] as number);
  return requested ?? max + 1;
}

/** Pairs each "images" file with the "labels" file of the same name. */
function findIdxPair(files: string[], dir: string): { images: string; labels: string } | undefined {
  const pairs: { images: string; labels: string }[] = [];
  for (const f of files) {
    if (!/images/i.test(f)) continue;
    const partner = files.find((g) => g !== f && g.toLowerCase() === f.toLowerCase().replace('images', 'labels').replace('idx3', 'idx1'));
    if (partner !== undefined) pairs.push({ images: f, labels: partner });
  }
  if (pairs.length === 0) {
    if (files.some((f) => /images/i.test(f)) || files.some((f) => /labels/i.test(f))) {
      invalid(`${dir}: found IDX-like files but no matching images/labels pair (e.g. train-images-idx3-ubyte + train-labels-idx1-ubyte)`);
    }
    return undefined;
  }
  if (pairs.length === 1) return pairs[0];
  const train = pairs.filter((p) => /train/i.test(p.images));
  if (train.length === 1) return train[0];
  return invalid(`${dir}: several IDX image/label pairs (${pairs.map((p) => p.images).join(', ')}); keep one`);
}

async function loadIdx(dir: string, pair: { images: string; labels: string }, options: DirectoryOptions): Promise<InMemoryDataset> {
  const [imageBytes, labelBytes] = await Promise.all([readFile(join(dir, pair.images)), readFile(join(dir, pair.labels))]);
  const images = parseIdxImages(imageBytes, join(dir, pair.images));
  const labels = parseIdxLabels(labelBytes, join(dir, pair.labels));
  if (labels.length !== images.count) invalid(`${dir}: ${images.count} images but ${labels.length} labels`);
  if (images.count === 0) invalid(`${dir}: ${pair.images} holds no images`);
  return new InMemoryDataset({
    pixels: images.pixels,
    labels,
    inputShape: [images.rows, images.cols, 1],
    numClasses: classCount(labels, options.numClasses),
  });
}

async function loadPngFolders(dir: string, entries: string[], options: DirectoryOptions): Promise<InMemoryDataset> {
  const [height, width] = options.imageSize ?? [28, 28];
  const files: { path: string; label: number }[] = [];
  for (const entry of entries.sort()) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (!(await stat(path)).isDirectory()) continue;
    if (!/^\d+$/.test(entry)) invalid(`${path}: class folders must be named by their integer label (0, 1, 2, …)`);
    for (const name of (await readdir(path)).sort()) {
      if (/\.png$/i.test(name) && !name.startsWith('.')) files.push({ path: join(path, name), label: Number(entry) });
    }
  }
  if (files.length === 0) invalid(`${dir}: no IDX files and no PNG images in integer-named class folders`);
  const size = height * width;
  const pixels = new Uint8Array(files.length * size);
  const labels = new Int32Array(files.length);
  for (let i = 0; i < files.length; i++) {
    const { path, label } = files[i] as { path: string; label: number };
    const image = decodePngGray(await readFile(path), path);
    if (image.width !== width || image.height !== height) {
      invalid(`${path}: image is ${image.width}x${image.height}, expected ${width}x${height} (resize it first)`);
    }
    pixels.set(image.pixels, i * size);
    labels[i] = label;
  }
  return new InMemoryDataset({ pixels, labels, inputShape: [height, width, 1], numClasses: classCount(labels, options.numClasses) });
}

/** Loads a dataset from `dir`; E_DATA_INVALID (naming the file) when it cannot. */
export async function loadDirectoryDataset(dir: string, options: DirectoryOptions = {}): Promise<InMemoryDataset> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new CohortError('E_DATA_INVALID', `${dir}: cannot read the data directory (${(err as Error).message})`, { cause: err });
  }
  const files: string[] = [];
  for (const e of entries) if (!e.startsWith('.') && (await stat(join(dir, e))).isFile()) files.push(e);
  const pair = findIdxPair(files, dir);
  return pair ? loadIdx(dir, pair, options) : loadPngFolders(dir, entries, options);
}
