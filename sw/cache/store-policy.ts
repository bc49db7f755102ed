/**
 * Which responses a route may store. Workbox's default stores opaque
 * responses and ignores Cache-Control; a route here stores only what it asks
 * for (2xx but 206 by default), and never a `no-store` response, nor a
 * `private` one unless the route opts in (DESIGN.md, "Security and privacy").
 */
import type { CacheOptions } from '../manifest/types.js';

type StoreRules = Pick<CacheOptions, 'statuses' | 'private'>;

const directives = (response: Response): string[] =>
  (response.headers.get('cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim().split('=')[0]!);

/**
 * The header that keeps a response the route would otherwise store out of
 * its cache (`Cache-Control: no-store`, `Cache-Control: private`, `Vary: *`),
 * or undefined. A status the route does not store is no such refusal: a 404
 * is the server's answer, not a configuration to fix.
 */
export function refusingHeader(options: StoreRules, response: Response): string | undefined {
  const cacheControl = directives(response);
  if (cacheControl.includes('no-store')) return 'Cache-Control: no-store';
  if (cacheControl.includes('private') && !options.private) return 'Cache-Control: private';
  // The Cache API refuses `Vary: *` outright.
  if ((response.headers.get('vary') ?? '').split(',').some((v) => v.trim() === '*')) return 'Vary: *';
  return undefined;
}

/** Whether the route stores answers with this status (2xx but 206, unless it lists its own). */
export const storesStatus = (options: StoreRules, status: number): boolean =>
  options.statuses ? options.statuses.includes(status) : status >= 200 && status < 300 && status !== 206;

export function mayStore(options: StoreRules, response: Response): boolean {
  return storesStatus(options, response.status) && !refusingHeader(options, response);
}
