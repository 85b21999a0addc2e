import { describe, expect, it } from 'vitest';
import { createLogger, formatPretty, parseLogFormat, parseLogLevel } from '../../coordinator/log.js';

function capture(): { lines: string[]; stream: { write(text: string): void } } {
  const lines: string[] = [];
  return { lines, stream: { write: (text) => void lines.push(text) } };
}

describe('structured logs', () => {
  it('writes JSON lines with level names, messages and fields with --log-format json', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ format: 'json', stream });

    logger.log('info', 'worker signed in', { address: '0xabc', kind: 'node' });
    logger.child({ component: 'ledger' }).log('warn', 'rpc unreachable');
    logger.log('debug', 'not shown at the default level');

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ level: 'info', msg: 'worker signed in', address: '0xabc', kind: 'node' });
    expect(records[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(records[1]).toMatchObject({ level: 'warn', msg: 'rpc unreachable', component: 'ledger' });
  });

  it('writes one readable line per record by default, without colour when asked', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ stream, level: 'debug', color: false });

    logger.log('debug', 'socket error', { peer: '127.0.0.1' });
    logger.log('error', 'store failed', { err: new Error('disk full') });

    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} DEBUG socket error {2}peer=127\.0\.0\.1\n$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR store failed\n {4}Error: disk full\n/);
    expect(lines.join('')).not.toContain('\x1b[');
  });

  it('colours levels for a terminal', () => {
    expect(formatPretty(JSON.stringify({ level: 'warn', time: '2026-01-01T10:00:00.000Z', msg: 'slow' }), true)).toBe('\x1b[90m10:00:00.000\x1b[0m \x1b[33mWARN \x1b[0m slow\n');
  });

  it('checks --log-format and --log-level values', () => {
    expect(parseLogFormat(undefined)).toBe('pretty');
    expect(parseLogFormat('json')).toBe('json');
    expect(() => parseLogFormat('xml')).toThrow(/--log-format: expected one of pretty\|json, got 'xml'/);
    expect(parseLogLevel('warn')).toBe('warn');
    expect(() => parseLogLevel('loud')).toThrow(/--log-level/);
  });
});
