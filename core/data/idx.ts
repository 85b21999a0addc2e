/**
 * The IDX format of the original MNIST files: a big-endian header (magic, then one uint32 per
 * dimension) followed by the raw data. Only unsigned-byte data is supported, which is what MNIST
 * and its look-alikes (Fashion-MNIST, KMNIST, EMNIST) ship.
 */
import { CohortError } from '../protocol/errors.js';

/** 0x08 = unsigned byte; the low byte is the number of dimensions. */
const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols bytes, row-major, one byte per pixel. */
  pixels: Uint8Array;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fail(what: string, message: string): never {
  throw new CohortError('E_DATA_INVALID', `${what}: ${message}`);
}

/** Parses an idx3-ubyte image file. `name` only labels error messages. */
export function parseIdxImages(bytes: Uint8Array, name = 'IDX images'): IdxImages {
  if (bytes.byteLength < 16) fail(name, `too short for an idx3 header (${bytes.byteLength} bytes)`);
  const dv = view(bytes);
  const magic = dv.getUint32(0);
  if (magic !== IMAGES_MAGIC) {
    fail(name, `bad magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x00000803 (idx3, unsigned byte)`);
  }
  const count = dv.getUint32(4);
  const rows = dv.getUint32(8);
  const cols = dv.getUint32(12);
  if (rows === 0 || cols === 0) fail(name, `image size ${rows}x${cols} is empty`);
  const expected = 16 + count * rows * cols;
  if (bytes.byteLength !== expected) {
    fail(name, `length ${bytes.byteLength} does not match the header (${count} images of ${rows}x${cols} need ${expected})`);
  }
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

/** Parses an idx1-ubyte label file. */
export function parseIdxLabels(bytes: Uint8Array, name = 'IDX labels'): Uint8Array {
  if (bytes.byteLength < 8) fail(name, `too short for an idx1 header (${bytes.byteLength} bytes)`);
  const dv = view(bytes);
  const magic = dv.getUint32(0);
  if (magic !== LABELS_MAGIC) {
    fail(name, `bad magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x00000801 (idx1, unsigned byte)`);
  }
  const count = dv.getUint32(4);
  if (bytes.byteLength !== 8 + count) {
    fail(name, `length ${bytes.byteLength} does not match the header (${count} labels need ${8 + count})`);
  }
  return bytes.subarray(8);
}
