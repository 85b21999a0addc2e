/**
 * Image files in one folder per label (`3/any-name.png` is a 3), as a volunteer picks them with a
 * directory picker. Each image is decoded by the browser (createImageBitmap), scaled to the model's
 * input size on an OffscreenCanvas and turned into grayscale bytes. Works in the Web Worker.
 *
 * MNIST is a white digit on black: images are used as they are, not inverted.
 */
import { CohortError } from '../../../core/protocol/errors.js';
import type { ParsedExamples } from './csv.js';

/** Refuse more images than this in one pick: each is decoded one by one, in memory. */
export const MAX_IMAGES = 200_000;

const IMAGE_NAME = /\.(png|jpe?g|gif|bmp|webp)$/i;

/**
 * The label of a picked file: its parent folder's name (webkitRelativePath `root/3/x.png`), or,
 * for files picked one by one, a `3_…` or `3-…` name prefix. Undefined when neither is a label.
 */
export function labelOf(file: { name: string; webkitRelativePath?: string }, numClasses: number): number | undefined {
  const parts = (file.webkitRelativePath ?? '').split('/').filter((p) => p !== '');
  const candidate = parts.length >= 2 ? parts[parts.length - 2]! : /^(\d+)[_-]/.exec(file.name)?.[1];
  if (candidate === undefined || !/^\d+$/.test(candidate)) return undefined;
  const label = Number(candidate);
  return label < numClasses ? label : undefined;
}

/** Grayscale bytes of an RGBA image, composited over black (transparent = background). */
export function rgbaToGray(rgba: Uint8ClampedArray, out: Uint8Array, offset: number): void {
  for (let p = 0, i = 0; i < rgba.length; p++, i += 4) {
    const luma = 0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!;
    out[offset + p] = Math.round((luma * rgba[i + 3]!) / 255);
  }
}

export async function parseImageFolders(
  files: readonly File[],
  size: { rows: number; cols: number },
  numClasses: number,
  onProgress?: (done: number, total: number) => void,
): Promise<ParsedExamples> {
  const images = files.filter((f) => IMAGE_NAME.test(f.name));
  if (images.length === 0) throw new CohortError('E_DATA_INVALID', 'no image files (png, jpg, gif, bmp, webp) among the picked files');
  if (images.length > MAX_IMAGES) throw new CohortError('E_DATA_INVALID', `${images.length} images; at most ${MAX_IMAGES} at once`);
  const unlabelled = images.filter((f) => labelOf(f, numClasses) === undefined);
  if (unlabelled.length > 0) {
    const example = unlabelled[0]!.webkitRelativePath || unlabelled[0]!.name;
    throw new CohortError(
      'E_DATA_INVALID',
      `${unlabelled.length} images are not in a folder named after their label (0..${numClasses - 1}), e.g. ${example}`,
    );
  }
  const featureSize = size.rows * size.cols;
  const pixels = new Uint8Array(images.length * featureSize);
  const labels = new Uint8Array(images.length);
  const canvas = new OffscreenCanvas(size.cols, size.rows);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new CohortError('E_DATA_INVALID', 'this browser cannot decode images off the page (no OffscreenCanvas 2d)');
  for (let i = 0; i < images.length; i++) {
    const file = images[i]!;
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      throw new CohortError('E_DATA_INVALID', `${file.webkitRelativePath || file.name} is not an image the browser can decode`);
    }
    context.clearRect(0, 0, size.cols, size.rows);
    context.drawImage(bitmap, 0, 0, size.cols, size.rows);
    bitmap.close();
    rgbaToGray(context.getImageData(0, 0, size.cols, size.rows).data, pixels, i * featureSize);
    labels[i] = labelOf(file, numClasses)!;
    if (i % 256 === 255) onProgress?.(i + 1, images.length);
  }
  onProgress?.(images.length, images.length);
  return { pixels, labels, count: images.length };
}
