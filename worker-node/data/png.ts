/**
 * A minimal PNG decoder to 8-bit grayscale, enough for datasets of small digit-like images:
 * bit depth 8; gray, gray+alpha, RGB or RGBA; not interlaced. Colour becomes gray by the ITU-R
 * BT.601 luma weights; alpha is ignored. Anything else is E_DATA_INVALID naming the file.
 */
import { inflateSync } from 'node:zlib';
import { CohortError } from '../../core/protocol/errors.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Channels per colour type. 3 (palette) is not supported. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export interface GrayImage {
  width: number;
  height: number;
  /** width × height bytes, row-major. */
  pixels: Uint8Array;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Reverses the per-row filters in place; returns the unfiltered rows without filter bytes. */
function unfilter(raw: Uint8Array, width: number, height: number, bpp: number, fail: (m: string) => never): Uint8Array {
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) fail(`image data is ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)] as number;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const value = raw[src + x] as number;
      const left = x >= bpp ? (out[row + x - bpp] as number) : 0;
      const up = y > 0 ? (out[prev + x] as number) : 0;
      const upLeft = y > 0 && x >= bpp ? (out[prev + x - bpp] as number) : 0;
      let predicted: number;
      switch (type) {
        case 0: predicted = 0; break;
        case 1: predicted = left; break;
        case 2: predicted = up; break;
        case 3: predicted = (left + up) >> 1; break;
        case 4: predicted = paeth(left, up, upLeft); break;
        default: fail(`unknown row filter ${type} in row ${y}`);
      }
      out[row + x] = (value + predicted) & 0xff;
    }
  }
  return out;
}

/** Decodes `bytes` (a PNG file) to grayscale. `name` labels errors. */
export function decodePngGray(bytes: Uint8Array, name: string): GrayImage {
  const fail: (message: string) => never = (message) => {
    throw new CohortError('E_DATA_INVALID', `${name}: ${message}`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('not a PNG file');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  let offset = 8;
  let sawHeader = false;
  while (offset + 8 <= bytes.length) {
    const length = dv.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const start = offset + 8;
    if (start + length + 4 > bytes.length) fail(`chunk ${type} runs past the end of the file`);
    const data = bytes.subarray(start, start + length);
    if (type === 'IHDR') {
      if (length < 13) fail('IHDR chunk too short');
      width = dv.getUint32(start);
      height = dv.getUint32(start + 4);
      const bitDepth = data[8] as number;
      const colorType = data[9] as number;
      const interlace = data[12] as number;
      if (bitDepth !== 8) fail(`bit depth ${bitDepth} is not supported (only 8-bit)`);
      const c = CHANNELS[colorType];
      if (c === undefined) fail(`colour type ${colorType} is not supported (gray, gray+alpha, RGB or RGBA only)`);
      if (interlace !== 0) fail('interlaced PNGs are not supported');
      if (width === 0 || height === 0) fail('image has no pixels');
      channels = c;
      sawHeader = true;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    offset = start + length + 4; // skip the CRC: inflate catches corrupt data
  }
  if (!sawHeader) fail('missing IHDR chunk');
  if (idat.length === 0) fail('missing image data (IDAT)');
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (err) {
    return fail(`corrupt image data (${(err as Error).message})`);
  }
  const rows = unfilter(raw, width, height, channels, fail);
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) {
    const p = i * channels;
    if (channels <= 2) pixels[i] = rows[p] as number;
    else pixels[i] = Math.round(0.299 * (rows[p] as number) + 0.587 * (rows[p + 1] as number) + 0.114 * (rows[p + 2] as number));
  }
  return { width, height, pixels };
}
