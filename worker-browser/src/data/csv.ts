/**
 * A CSV in the run's schema, as Kaggle's MNIST CSVs ship: `label,pixel0,…,pixel783`, one example
 * per line, pixels 0–255. The header line is optional; blank lines are skipped. Anything else is
 * refused with the line number, so a volunteer can fix the file.
 */
import { CohortError } from '../../../core/protocol/errors.js';

export interface ParsedExamples {
  /** One byte per pixel, `count × featureSize`. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Refuse bigger CSVs: the examples are held in memory and in IndexedDB. */
export const MAX_CSV_BYTES = 512 * 1024 * 1024;

/** Number('') is 0; an empty cell is a mistake, not a black pixel. */
function cellNumber(cell: string): number {
  return cell.trim() === '' ? Number.NaN : Number(cell);
}

function fail(message: string): never {
  throw new CohortError('E_DATA_INVALID', message);
}

/**
 * Parses CSV text into examples of `featureSize` pixels with labels below `numClasses`.
 *
 * @example
 * parseExamplesCsv('label,pixel0,pixel1\n3,0,255\n', 2, 10) // → { count: 1, labels: [3], pixels: [0, 255] }
 */
export function parseExamplesCsv(text: string, featureSize: number, numClasses: number, name = 'CSV'): ParsedExamples {
  const lines = text.split(/\r?\n/);
  let first = 0;
  while (first < lines.length && lines[first]!.trim() === '') first++;
  if (first < lines.length && /^\s*label\s*,/i.test(lines[first]!)) {
    const columns = lines[first]!.split(',').length;
    if (columns !== featureSize + 1) fail(`${name}: the header has ${columns} columns, the run's schema has ${featureSize + 1} (label,pixel0..pixel${featureSize - 1})`);
    first++;
  }
  let count = 0;
  for (let i = first; i < lines.length; i++) if (lines[i]!.trim() !== '') count++;
  if (count === 0) fail(`${name}: no examples`);

  const pixels = new Uint8Array(count * featureSize);
  const labels = new Uint8Array(count);
  let example = 0;
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split(',');
    if (cells.length !== featureSize + 1) fail(`${name} line ${i + 1}: ${cells.length} values, expected ${featureSize + 1} (a label and ${featureSize} pixels)`);
    const label = cellNumber(cells[0]!);
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) fail(`${name} line ${i + 1}: label ${JSON.stringify(cells[0])} is not an integer in 0..${numClasses - 1}`);
    labels[example] = label;
    const base = example * featureSize;
    for (let k = 0; k < featureSize; k++) {
      const value = cellNumber(cells[k + 1]!);
      if (!Number.isFinite(value) || value < 0 || value > 255) fail(`${name} line ${i + 1}: pixel${k} is ${JSON.stringify(cells[k + 1])}, expected 0–255`);
      pixels[base + k] = Math.round(value);
    }
    example++;
  }
  return { pixels, labels, count };
}
