/**
 * Errors the worker raises. Each has a stable kebab-case code (tests assert
 * it) and a message that names the input and says what to do; messages live
 * here, in one map.
 */
const messages = {
  'invalid-manifest': (source: string, issues: string[]) =>
    `${source} is not a valid offline-outbox manifest (${issues.length} problem${issues.length === 1 ? '' : 's'}); fix it and reload:\n  ${issues.join('\n  ')}`,
  // Script-tag users never write the worker's URL: they name the manifest with data-manifest, so it is named before ?manifest=.
  'manifest-unreachable': (source: string, why: string) =>
    `could not load the manifest ${source} (${why}); serve offline.manifest.json beside sw.js, or set data-manifest="<url>" on the register.js script tag (or register the worker with ?manifest=<url>)`,
} as const;

export type OutboxErrorCode = keyof typeof messages;

export class OutboxError extends Error {
  override readonly name = 'OutboxError';
  readonly code: OutboxErrorCode;
  /** Plain data that survives postMessage. */
  readonly details: readonly string[];

  constructor(code: 'invalid-manifest', source: string, issues: string[]);
  constructor(code: 'manifest-unreachable', source: string, why: string);
  constructor(code: OutboxErrorCode, source: string, detail: string | string[], options?: { cause?: unknown }) {
    const details = Array.isArray(detail) ? detail : [detail];
    super((messages[code] as (s: string, d: never) => string)(source, detail as never), options);
    this.code = code;
    this.details = details;
  }
}

/** Checks by name, so it works across realms and bundles. */
export const isOutboxError = (e: unknown): e is OutboxError => e instanceof Error && e.name === 'OutboxError';
