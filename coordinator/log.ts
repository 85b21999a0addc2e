/**
 * Structured logs for the coordinator and the CLI, through pino. Two formats:
 * - `pretty` (the default): one short line per record for a person at a terminal,
 *   `12:04:31.250 INFO  worker 0xAb…12 signed in  kind=node`;
 * - `json` (`--log-format json`): pino's JSON lines, for a log pipeline.
 *
 * pino-pretty is a separate package and a worker thread; a dozen lines below do what a terminal
 * needs. Logs go to stderr, so stdout stays free for results (`--json` summaries).
 *
 * @example
 * const logger = createLogger({ format: 'json', level: 'debug' });
 * startCoordinator({ ..., log: logger.log });
 * logger.log('warn', 'ledger unreachable; will retry', { attempt: 3 });
 */
import pino from 'pino';
import { CohortError } from '../core/protocol/errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'pretty' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Same shape as the coordinator's `Logger`, plus optional structured fields. */
export type LogFn = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface CohortLogger {
  readonly log: LogFn;
  readonly pino: pino.Logger;
  /** A logger whose records all carry `bindings` (e.g. `{ component: 'ledger' }`). */
  child(bindings: Record<string, unknown>): CohortLogger;
}

export interface LoggerOptions {
  format?: LogFormat | undefined;
  /** Lowest level written; default 'info'. */
  level?: LogLevel | undefined;
  /** Default process.stderr. */
  stream?: { write(text: string): unknown } | undefined;
  /** Colours in the pretty format; default: when the stream is a TTY and NO_COLOR is unset. */
  color?: boolean | undefined;
}

export function createLogger(options: LoggerOptions = {}): CohortLogger {
  const format = options.format ?? 'pretty';
  const target = options.stream ?? process.stderr;
  const pinoOptions: pino.LoggerOptions = {
    level: options.level ?? 'info',
    // Level names, not numbers, read better in any log pipeline.
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (format === 'json') {
    // Synchronous: a crash or process.exit must not lose the records that explain it.
    const destination = options.stream ? { write: (line: string) => void target.write(line) } : pino.destination({ dest: 2, sync: true });
    return wrap(pino(pinoOptions, destination));
  }
  const color = options.color ?? (isTty(target) && !process.env.NO_COLOR);
  return wrap(pino({ ...pinoOptions, base: undefined }, { write: (line: string) => void target.write(formatPretty(line, color)) }));
}

/** Checks a `--log-format` value. */
export function parseLogFormat(value: string | undefined): LogFormat {
  if (value === undefined) return 'pretty';
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new CohortError('E_CLI_USAGE', `--log-format: expected one of ${LOG_FORMATS.join('|')}, got '${value}'`);
}

/** Checks a `--log-level` value. */
export function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined) return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new CohortError('E_CLI_USAGE', `--log-level: expected one of ${LOG_LEVELS.join('|')}, got '${value}'`);
}

function wrap(logger: pino.Logger): CohortLogger {
  return {
    pino: logger,
    log: (level, message, fields) => {
      if (fields) logger[level](fields, message);
      else logger[level](message);
    },
    child: (bindings) => wrap(logger.child(bindings)),
  };
}

const LABELS: Record<string, { text: string; ansi: string }> = {
  trace: { text: 'TRACE', ansi: '90' },
  debug: { text: 'DEBUG', ansi: '90' },
  info: { text: 'INFO ', ansi: '36' },
  warn: { text: 'WARN ', ansi: '33' },
  error: { text: 'ERROR', ansi: '31' },
  fatal: { text: 'FATAL', ansi: '35' },
};

/**
 * Control characters a peer could use to forge lines or drive the terminal: C0 (newline, carriage
 * return, ESC…), DEL, C1, the Unicode line and paragraph separators, and bidirectional overrides.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with every control character written as an escape (`\n`, `\x1b`, `\u2028`), so that
 * whatever a worker puts in a message stays on its one line and cannot colour or move the terminal.
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * One pino JSON line → `HH:MM:SS.mmm LEVEL message  key=value …` (and an error's stack). Every
 * text from the record is escaped (escapeControl): only this function's own colours and line
 * breaks reach the terminal.
 */
export function formatPretty(line: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${escapeControl(line.replace(/\n$/, ''))}\n`;
  }
  const { level, time, msg, err, ...fields } = record;
  const label = LABELS[String(level)] ?? { text: escapeControl(String(level).toUpperCase().padEnd(5)), ansi: '0' };
  const paint = (code: string, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const clock = escapeControl(typeof time === 'string' ? time.slice(11, 23) : new Date(Number(time)).toISOString().slice(11, 23));
  const extra = Object.entries(fields)
    .map(([key, value]) => escapeControl(`${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`))
    .join(' ');
  let out = `${paint('90', clock)} ${paint(label.ansi, label.text)} ${escapeControl(String(msg ?? ''))}${extra ? `  ${paint('90', extra)}` : ''}\n`;
  if (err && typeof err === 'object') {
    const e = err as { stack?: unknown; message?: unknown };
    out += `${String(e.stack ?? e.message ?? '')
      .split('\n')
      .map((l) => `    ${escapeControl(l)}`)
      .join('\n')}\n`;
  }
  return out;
}

function isTty(stream: unknown): boolean {
  return typeof stream === 'object' && stream !== null && (stream as { isTTY?: boolean }).isTTY === true;
}
