/**
 * The worker page's pure parts, in Node: the URL query, the CSV and image-folder parsers, the state
 * the page shows, and the Chromium finder's rules.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, findChromium } from '../../worker-browser/chromium.js';
import { parseExamplesCsv } from '../../worker-browser/src/data/csv.js';
import { labelOf, rgbaToGray } from '../../worker-browser/src/data/images.js';
import { readParams } from '../../worker-browser/src/page/params.js';
import { applyWorkerMessage, initialState, roundInProgress } from '../../worker-browser/src/page/state.js';
import { scratchDir } from './helpers.js';

const at = (query: string, base = 'http://127.0.0.1:8080/worker/'): ReturnType<typeof readParams> => {
  const url = new URL(base + query);
  return readParams({ href: url.href, protocol: url.protocol, host: url.host });
};

describe('the page URL', () => {
  it('defaults to the coordinator that served the page, over ws or wss', () => {
    expect(at('').coordinatorUrl).toBe('ws://127.0.0.1:8080/ws');
    expect(at('', 'https://fl.example.org/worker/').coordinatorUrl).toBe('wss://fl.example.org/ws');
    expect(at('').autostart).toBe(false);
    expect(at('').shard).toBeUndefined();
  });

  it('reads shard, backend, autostart, maxSteps and wallet', () => {
    const p = at('?shard=2/5&backend=webgpu&autostart=1&maxSteps=7&wallet=tab&coordinator=ws://10.0.0.1:9/ws');
    expect(p).toMatchObject({ shard: { index: 2, count: 5 }, backend: 'webgpu', autostart: true, maxLocalSteps: 7, wallet: 'tab', coordinatorUrl: 'ws://10.0.0.1:9/ws' });
    expect(p.problems).toEqual([]);
  });

  it('names what it ignores instead of guessing', () => {
    const p = at('?shard=5/5&backend=tpu&maxSteps=0&coordinator=http://x');
    expect(p.shard).toBeUndefined();
    expect(p.backend).toBeUndefined();
    expect(p.maxLocalSteps).toBeUndefined();
    expect(p.problems).toHaveLength(4);
  });
});

describe('a CSV in the run schema', () => {
  it('parses label,pixel… rows with or without a header', () => {
    const parsed = parseExamplesCsv('label,pixel0,pixel1\n3,0,255\n\n7,12,34\n', 2, 10);
    expect(parsed.count).toBe(2);
    expect([...parsed.labels]).toEqual([3, 7]);
    expect([...parsed.pixels]).toEqual([0, 255, 12, 34]);
    expect(parseExamplesCsv('1,2,3\r\n', 2, 10).count).toBe(1);
  });

  it('refuses bad rows with their line number', () => {
    expect(() => parseExamplesCsv('label,pixel0\n3,0\n', 2, 10)).toThrow(/header has 2 columns/);
    expect(() => parseExamplesCsv('3,0,1\n12,0,1\n', 2, 10)).toThrow(/line 2: label "12"/);
    expect(() => parseExamplesCsv('3,0,256\n', 2, 10)).toThrow(/line 1: pixel1 is "256"/);
    expect(() => parseExamplesCsv('3,,1\n', 2, 10)).toThrow(/pixel0 is ""/);
    expect(() => parseExamplesCsv('3,1\n', 2, 10)).toThrow(/2 values, expected 3/);
    expect(() => parseExamplesCsv('\n', 2, 10)).toThrow(/no examples/);
  });
});

describe('image folders', () => {
  it('takes the label from the parent folder, or a label_ prefix', () => {
    expect(labelOf({ name: 'a.png', webkitRelativePath: 'digits/7/a.png' }, 10)).toBe(7);
    expect(labelOf({ name: '4_0012.png', webkitRelativePath: '' }, 10)).toBe(4);
    expect(labelOf({ name: 'a.png', webkitRelativePath: 'digits/cats/a.png' }, 10)).toBeUndefined();
    expect(labelOf({ name: 'a.png', webkitRelativePath: 'digits/12/a.png' }, 10)).toBeUndefined();
  });

  it('turns RGBA into gray over black', () => {
    const out = new Uint8Array(3);
    rgbaToGray(new Uint8ClampedArray([255, 255, 255, 255, 255, 0, 0, 255, 255, 255, 255, 0]), out, 0);
    expect([...out]).toEqual([255, 76, 0]);
  });
});

describe('what the page shows', () => {
  it('counts a round as contributed once it completes after this tab submitted', () => {
    const state = initialState({ coordinatorUrl: 'ws://x/ws', secure: true, crossOriginIsolated: true, hidden: false });
    const session = (event: Parameters<typeof applyWorkerMessage>[1] & { type: 'session' }): void => applyWorkerMessage(state, event);
    session({ type: 'session', event: { kind: 'connecting', url: 'ws://x/ws', attempt: 0 } });
    expect(state.connection).toBe('connecting');
    session({ type: 'session', event: { kind: 'training', round: 1 } });
    applyWorkerMessage(state, { type: 'trained', round: 1, examples: 64, steps: 2, trainedOn: 'wasm', trainMs: 10 });
    session({ type: 'session', event: { kind: 'submitted', round: 1, examples: 64, trainMs: 10 } });
    session({ type: 'session', event: { kind: 'round', summary: { type: 'round', runId: 'r', round: 1, status: 'completed', participants: 3, accuracy: 0.5 } } });
    // A round this tab did not submit to does not count.
    session({ type: 'session', event: { kind: 'round', summary: { type: 'round', runId: 'r', round: 2, status: 'completed', participants: 2 } } });
    session({ type: 'session', event: { kind: 'secagg', round: 3, stage: 'share-keys' } });
    expect(state).toMatchObject({ round: 3, stage: 'secagg:share-keys', examplesTrained: 64, roundsContributed: 1, accuracy: 0.5, trainedOn: 'wasm', quality: undefined });
    // Under contribution scoring the round summary carries this tab's own quality.
    const quality = { estimate: 0.8, confidence: 0.4, factor: 0.25, flagged: false };
    session({ type: 'session', event: { kind: 'round', summary: { type: 'round', runId: 'r', round: 3, status: 'completed', participants: 3, quality } } });
    expect(state.quality).toEqual(quality);
    session({ type: 'session', event: { kind: 'disconnected', code: 1006, reason: '', willRetry: true } });
    expect(state.connection).toBe('reconnecting');
  });

  it('counts training, an update awaiting its round and SecAgg+ stages as a round in progress (the close warning)', () => {
    const state = initialState({ coordinatorUrl: 'ws://x/ws', secure: true, crossOriginIsolated: true, hidden: false });
    const seen: boolean[] = [];
    const step = (message: Parameters<typeof applyWorkerMessage>[1]): void => {
      applyWorkerMessage(state, message);
      seen.push(roundInProgress(state));
    };
    state.joined = true;
    step({ type: 'progress', stage: 'waiting' });
    step({ type: 'session', event: { kind: 'training', round: 1 } });
    step({ type: 'session', event: { kind: 'submitted', round: 1, examples: 64, trainMs: 10 } });
    step({ type: 'session', event: { kind: 'round', summary: { type: 'round', runId: 'r', round: 1, status: 'completed', participants: 3 } } });
    step({ type: 'session', event: { kind: 'secagg', round: 2, stage: 'unmask' } });
    step({ type: 'ended', reason: 'the volunteer left' });
    expect(seen).toEqual([false, true, true, false, true, false]);
  });
});

describe('finding Chromium', () => {
  it('uses exactly the agreed flags, never --use-angle=vulkan', () => {
    expect(CHROMIUM_FLAGS).toEqual([
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--enable-unsafe-webgpu',
      '--enable-unsafe-swiftshader',
    ]);
  });

  it('takes CHROME_PATH first, and says so when it points nowhere', async () => {
    const fake = join(scratchDir('cohort-chrome-'), 'chrome');
    writeFileSync(fake, '');
    expect(await findChromium({ env: { CHROME_PATH: fake }, install: false })).toBe(fake);
    await expect(findChromium({ env: { CHROME_PATH: '/nowhere/chrome' }, install: false })).rejects.toMatchObject({
      code: 'E_BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/CHROME_PATH is \/nowhere\/chrome, which does not exist; install Chromium/),
    });
  });
});
