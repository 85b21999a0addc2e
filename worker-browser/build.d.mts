/** Types of build.mjs (plain JS, so that `npm install` can run it without a TypeScript loader). */
export declare const DEFAULT_OUT_DIR: string;
export declare function buildWorkerPage(options?: { outDir?: string; minify?: boolean; log?: (line: string) => void }): Promise<{ outDir: string; bytes: number }>;
export declare function isWorkerPageStale(outDir?: string): boolean;
