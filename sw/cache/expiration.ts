/**
 * A route's `maxEntries` and `maxAgeSeconds`, on the Cache API alone.
 *
 * Decision: not workbox-expiration. It keeps its timestamps in a second
 * IndexedDB database per cache through the `idb` wrapper, which cost 1.9 KB
 * of the worker's 15 KB budget. Here the time a response was stored travels
 * with it (`x-outbox-stored-at`), and Cache Storage lists keys in the order
 * they were last written (a `put` replaces an entry by appending it), so the
 * least recently written entries are the first keys. As with Workbox's:
 * `maxEntries` keeps the most recently used (a cache hit is written back,
 * see strategy.ts), and `maxAgeSeconds` counts from when the response was
 * stored. An opaque response cannot carry the header: it expires by count
 * only.
 */
import type { CacheOptions } from '../manifest/types.js';
import { getScope } from '../scope.js';

export const STORED_AT = 'x-outbox-stored-at';

/** A copy of `response` stamped with the time it is stored (opaque ones as they are). */
export function stamped(response: Response, now = Date.now()): Response {
  if (response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  headers.set(STORED_AT, String(now));
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** Whether a cached response is older than `maxAgeSeconds`. */
export function expired(response: Response, maxAgeSeconds: number | undefined, now = Date.now()): boolean {
  const at = Number(response.headers.get(STORED_AT));
  return !!maxAgeSeconds && at > 0 && now - at > maxAgeSeconds * 1000;
}

/** Deletes the oldest entries past `maxEntries`, and those past `maxAgeSeconds`. */
export async function trim(cache: Cache, { maxEntries, maxAgeSeconds }: CacheOptions, now = Date.now()): Promise<void> {
  const keys = await cache.keys();
  const over = maxEntries ? keys.length - maxEntries : 0;
  await Promise.all(
    keys.map(async (key, i) => (i < over || (maxAgeSeconds && expired((await cache.match(key))!, maxAgeSeconds, now))) && cache.delete(key)),
  );
}
