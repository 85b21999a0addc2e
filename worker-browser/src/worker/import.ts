/**
 * Turning the files a volunteer picked into stored examples, in the Web Worker (parsing a big CSV
 * on the page would freeze it). The result goes to IndexedDB and nowhere else.
 *
 * Examples follow the built-in models' schema, MNIST's: 28×28 grayscale, labels 0–9. A run whose
 * model takes something else refuses them at `prepare` (checkDataFitsModel) with a clear message.
 */
import { CohortError } from '../../../core/protocol/errors.js';
import type { LocalDataSummary } from '../bridge.js';
import { MAX_CSV_BYTES, parseExamplesCsv, type ParsedExamples } from '../data/csv.js';
import { parseImageFolders } from '../data/images.js';
import { saveDataset } from '../storage.js';

export const LOCAL_SCHEMA = { rows: 28, cols: 28, channels: 1, numClasses: 10 } as const;

export async function importFiles(format: 'csv' | 'images', files: readonly File[]): Promise<LocalDataSummary> {
  if (files.length === 0) throw new CohortError('E_DATA_INVALID', 'no files were picked');
  const { rows, cols, channels, numClasses } = LOCAL_SCHEMA;
  const parsed = format === 'csv' ? await parseCsvFiles(files, rows * cols * channels, numClasses) : await parseImageFolders(files, { rows, cols }, numClasses);
  const perLabel = new Array<number>(numClasses).fill(0);
  for (const label of parsed.labels) perLabel[label] = (perLabel[label] ?? 0) + 1;
  const summary: LocalDataSummary = {
    examples: parsed.count,
    classes: perLabel.filter((n) => n > 0).length,
    perLabel,
    source: format === 'csv' ? `${files.length} CSV file${files.length === 1 ? '' : 's'}` : `${parsed.count} images in label folders`,
    storedAt: Date.now(),
  };
  await saveDataset({ pixels: parsed.pixels, labels: parsed.labels, inputShape: [rows, cols, channels], numClasses, summary });
  return summary;
}

async function parseCsvFiles(files: readonly File[], featureSize: number, numClasses: number): Promise<ParsedExamples> {
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total > MAX_CSV_BYTES) throw new CohortError('E_DATA_INVALID', `the CSV files hold ${total} bytes; at most ${MAX_CSV_BYTES} at once`);
  const parts: ParsedExamples[] = [];
  for (const file of files) parts.push(parseExamplesCsv(await file.text(), featureSize, numClasses, file.name));
  if (parts.length === 1) return parts[0]!;
  const count = parts.reduce((n, p) => n + p.count, 0);
  const pixels = new Uint8Array(count * featureSize);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    pixels.set(part.pixels, at * featureSize);
    labels.set(part.labels, at);
    at += part.count;
  }
  return { pixels, labels, count };
}
