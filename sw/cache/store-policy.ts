/**
 * Which responses a route may store. Workbox's default stores opaque
 * responses and ignores Cache-Control; a route here stores only what it asks
 * for (2xx but 206 by default), and never a `no-store` response, nor a
 * `private` one unless the route opts in (DESIGN.md, "Security and privacy").
 */
import type { CacheOptions } from '../manifest/types.js';

const directives = (response: Response): string[] =>
  (response.headers.get('cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim().split('=')[0]!);

export function mayStore(options: Pick<CacheOptions, 'statuses' | 'private'>, response: Response): boolean {
  const { status } = response;
  const statusOk = options.statuses ? options.statuses.includes(status) : status >= 200 && status < 300 && status !== 206;
  if (!statusOk) return false;
  const cacheControl = directives(response);
  if (cacheControl.includes('no-store')) return false;
  if (cacheControl.includes('private') && !options.private) return false;
  // The Cache API refuses `Vary: *` outright.
  return !(response.headers.get('vary') ?? '').split(',').some((v) => v.trim() === '*');
}
