/** Types for `build.mjs`, so TypeScript tests can import it. */
export declare const DEFAULT_OUT_FILE: string;
export interface BuildOptions {
  /** Where to write the worker. @default bench/.build/workbox-sw.js */
  outFile?: string;
  /** Strip Workbox's dev-only checks and logs, and minify. @default true */
  production?: boolean;
}
/** Bundles the Workbox baseline worker into one classic script; resolves with its absolute path. */
export declare function buildWorkboxBaseline(options?: BuildOptions): Promise<string>;
