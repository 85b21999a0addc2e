/** Wire codec throughput for one 1.66M-parameter update (6.6 MB of float32). */
import { decodeWorkerMessage, encodeMessage } from '../core/protocol/codec.js';
import { medianMs } from './machine.js';

export async function run(): Promise<string> {
  const length = 1_663_370;
  const delta = new Float32Array(length).map((_, i) => Math.sin(i));
  const message = { type: 'update', runId: 'bench', round: 1, delta, examples: 600, steps: 19, loss: 0.1, accuracy: 0.9, trainMs: 1000 };
  const mb = (length * 4) / 1e6;
  let encoded = encodeMessage(message);
  const encodeMs = medianMs(9, () => {
    encoded = encodeMessage(message);
  });
  const decodeMs = medianMs(9, () => {
    decodeWorkerMessage(encoded);
  });
  const jsonMs = medianMs(3, () => {
    JSON.parse(JSON.stringify({ ...message, delta: Array.from(delta) }));
  });
  return [
    `| step | time (median) | throughput |`,
    `|---|---|---|`,
    `| encode (msgpackr, moreTypes) | ${encodeMs.toFixed(1)} ms | ${(mb / (encodeMs / 1000)).toFixed(0)} MB/s |`,
    `| decode + validate (zod) | ${decodeMs.toFixed(1)} ms | ${(mb / (decodeMs / 1000)).toFixed(0)} MB/s |`,
    `| JSON round trip, for comparison | ${jsonMs.toFixed(0)} ms | ${(mb / (jsonMs / 1000)).toFixed(0)} MB/s |`,
    ``,
    `Frame size: ${(encoded.byteLength / 1e6).toFixed(2)} MB for ${mb.toFixed(2)} MB of float32.`,
  ].join('\n');
}
