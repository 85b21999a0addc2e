/**
 * The runtime-neutral globals core uses besides WebCrypto, declared by hand so that core/ compiles
 * with neither DOM nor Node types (core/tsconfig.json). Each exists with this shape in Node 20,
 * browser pages and Web Workers; declare only what core calls, so a Node- or DOM-only API used in
 * core fails to compile. Only core's own tsconfig includes this file: the wings get these names
 * from lib.dom or @types/node.
 */

interface Console {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}
declare var console: Console;

/** Opaque: a number in browsers, a Timeout object in Node. */
interface TimerHandle {
  readonly __timerHandle: unique symbol;
}
declare function setTimeout(callback: () => void, ms?: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;

interface Performance {
  now(): number;
}
declare var performance: Performance;

interface TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}
declare var TextEncoder: { new (): TextEncoder };

interface TextDecoder {
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare var TextDecoder: { new (label?: string, options?: { fatal?: boolean }): TextDecoder };

interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
}
interface AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
declare var AbortController: { new (): AbortController };

declare function structuredClone<T>(value: T): T;
declare function atob(data: string): string;

/** WHATWG URL parsing (the subset core reads). */
interface URL {
  readonly protocol: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
  readonly href: string;
  toString(): string;
}
declare var URL: { new (url: string, base?: string): URL; canParse(url: string, base?: string): boolean };
