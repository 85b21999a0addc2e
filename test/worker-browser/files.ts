/**
 * Files a volunteer might pick, made from real MNIST digits: a CSV in the run's schema and PNG
 * images in one folder per label. The PNG writer is the smallest valid one (8-bit grayscale,
 * filter 0, one IDAT chunk).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { loadMnist } from '../../worker-node/data/mnist.js';

export interface Digits {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** `count` training digits starting at `from` (28×28 bytes each). */
export function mnistDigits(count: number, from = 0): Digits {
  const { images, labels } = loadMnist('train');
  return {
    pixels: images.pixels.slice(from * 784, (from + count) * 784),
    labels: labels.slice(from, from + count),
    count,
  };
}

export function digitsCsv(digits: Digits): string {
  const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i}`)].join(',');
  const rows = Array.from({ length: digits.count }, (_, i) => [digits.labels[i], ...digits.pixels.subarray(i * 784, (i + 1) * 784)].join(','));
  return `${header}\n${rows.join('\n')}\n`;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

export function grayPng(width: number, height: number, pixels: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: grayscale
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Writes `root/<label>/<i>.png` for every digit; returns the file paths in digit order. */
export function writePngFolders(root: string, digits: Digits): string[] {
  const paths: string[] = [];
  for (let i = 0; i < digits.count; i++) {
    const folder = join(root, String(digits.labels[i]));
    mkdirSync(folder, { recursive: true });
    const path = join(folder, `${i}.png`);
    writeFileSync(path, grayPng(28, 28, digits.pixels.subarray(i * 784, (i + 1) * 784)));
    paths.push(path);
  }
  return paths;
}
