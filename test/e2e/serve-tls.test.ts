/**
 * `cohort serve` with TLS: workers join over wss://, /healthz answers over https, and SIGTERM
 * shuts it down cleanly (exit 0), stopping its --local-workers too. A worker trains on its own
 * data from disk (--data DIR), not on a demo shard.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, freePort, scratchDir, spawnCohort, type CohortProcess } from './helpers.js';

/** A minimal 8-bit grayscale PNG encoder for test images. */
function grayPng(width: number, height: number, pixel: (x: number, y: number) => number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer): number => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  const rows = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = pixel(x, y);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

describe('cohort serve with TLS', () => {
  const dir = scratchDir();
  const processes: CohortProcess[] = [];
  afterAll(async () => {
    for (const p of processes) {
      p.kill('SIGKILL');
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves wss:// to a worker with local data and exits cleanly on SIGTERM', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    // A tiny private dataset on disk: vertical bars are 0, horizontal bars are 1.
    for (const label of [0, 1]) {
      mkdirSync(join(dir, 'data', String(label)), { recursive: true });
      for (let i = 0; i < 20; i++) {
        writeFileSync(join(dir, 'data', String(label), `${i}.png`), grayPng(28, 28, (x, y) => ((label === 0 ? x : y) % 7 === i % 7 ? 255 : 0)));
      }
    }
    const port = await freePort();
    const serve = spawnCohort(['serve', '--port', String(port), '--store', join(dir, 'run.sqlite'), '--tls-cert', cert, '--tls-key', key, '--rounds', '1000', '--min-clients', '1', '--no-secure-agg', '--max-local-steps', '2', '--eval', 'none']);
    processes.push(serve);
    await serve.waitForLine(/workers connect to: wss:\/\/127\.0\.0\.1:\d+\/ws/);

    const worker = spawnCohort(['worker', '--coordinator', `wss://127.0.0.1:${port}/ws`, '--key', join(dir, 'w.key'), '--data', join(dir, 'data'), '--backend', 'wasm'], { NODE_EXTRA_CA_CERTS: cert });
    processes.push(worker);
    await worker.waitForLine(/ready: backend wasm .*; 40 local examples/);
    await serve.waitForLine(/round +2\/1000/);
    const health = await eventually(async () => {
      const { request } = await import('node:https');
      return new Promise<{ ok: boolean } | undefined>((resolve) => {
        request(`https://127.0.0.1:${port}/healthz`, { ca: readFileSync(cert) }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body) as { ok: boolean }));
        })
          .on('error', () => resolve(undefined))
          .end();
      });
    });
    expect(health.ok).toBe(true);

    serve.kill('SIGTERM');
    const exit = await serve.exited;
    expect(exit.code).toBe(0);
    expect(serve.output.join('\n')).toContain('received SIGTERM; shutting down');
    // The worker is told the coordinator is shutting down and keeps trying to reconnect.
    await worker.waitForLine(/disconnected \(4090 E_SHUTTING_DOWN\); will reconnect/);
  }, 180_000);
});
