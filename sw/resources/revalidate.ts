/**
 * Refreshing cached GETs of a declared resource, and only those: the item's
 * URL and every cached variant of its collection (query strings included).
 * Each refetch is conditional (the stored ETag or Last-Modified), so an
 * unchanged entry costs a 304 and no body.
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { mayStore } from '../cache/store-policy.js';
import { execPattern } from '../manifest/pattern.js';
import { broadcast } from '../shared/broadcast.js';
import { getScope } from '../scope.js';
import { currentEpoch, epochSignal, isCurrent } from '../store/epoch.js';
import { itemUrl, type Resource } from './resources.js';

/** Where a route keeps its GETs: the cache, and the route's plugins that decide what is stored and when it expires. */
export interface CacheLocation {
  name: string;
  plugins: readonly WorkboxPlugin[];
}

/** The cache a GET of `url` is kept in, by its route; undefined when no cached route serves it. */
export type CacheLookup = (url: string) => CacheLocation | undefined;

/**
 * Stores a refetched response as the route's strategy would: its
 * `cacheWillUpdate` plugins decide (our store policy when it has none), and
 * its `cacheDidUpdate` plugins hear of it (ExpirationPlugin's timestamps).
 * A refresh has no fetch event to hand them: these two callbacks use none.
 */
export async function storeThrough(cache: Cache, at: CacheLocation, request: Request, response: Response): Promise<boolean> {
  const policies = at.plugins.filter((p) => p.cacheWillUpdate);
  let stored: Response | null | undefined = policies.length || mayStore({}, response) ? response : null;
  for (const plugin of policies) if (stored) stored = (await plugin.cacheWillUpdate!({ request, response: stored } as never)) ?? null;
  if (!stored) return false;
  await cache.put(request, stored);
  for (const plugin of at.plugins) await plugin.cacheDidUpdate?.({ cacheName: at.name, request, newResponse: stored } as never);
  return true;
}

/** Refetches one cached entry; returns whether the cache changed. */
async function refresh(cache: Cache, request: Request, at: CacheLocation, epoch: number): Promise<boolean> {
  const cached = await cache.match(request);
  if (!cached) return false;
  const headers = new Headers();
  const etag = cached.headers.get('etag');
  const modified = cached.headers.get('last-modified');
  if (etag) headers.set('if-none-match', etag);
  if (modified) headers.set('if-modified-since', modified);
  let response: Response;
  try {
    response = await fetch(request.url, { headers, credentials: request.credentials, cache: 'no-store', signal: epochSignal() });
  } catch {
    return false;
  }
  // After a log-out nothing from before it is cached again.
  if (response.status === 304 || !isCurrent(epoch)) return false;
  if (response.status === 404 || response.status === 410) return cache.delete(request);
  return storeThrough(cache, at, request, response);
}

/**
 * Refreshes the cached item `ids` of `resource` and the cached variants of
 * its collection; tells pages which URLs changed, the items as soon as they
 * are fresh (one refetch), the collections apart.
 */
export async function revalidate(resource: Resource, ids: Iterable<string>, cacheOf: CacheLookup): Promise<void> {
  const { caches } = getScope();
  const epoch = currentEpoch();
  const announce = async (work: Promise<string | false>[]) => {
    const urls = (await Promise.all(work)).filter((u): u is string => !!u);
    if (urls.length) broadcast('cache-updated', { urls });
  };
  const items = [...ids].map(async (id) => {
    const url = itemUrl(resource, id);
    const at = cacheOf(url);
    return !!at && isCurrent(epoch) && (await refresh(await caches.open(at.name), new Request(url), at, epoch)) && url;
  });
  const lists = async () => {
    const at = cacheOf(resource.origin + resource.spec.collection);
    if (!at || !isCurrent(epoch)) return;
    const cache = await caches.open(at.name);
    const work: Promise<string | false>[] = [];
    for (const request of await cache.keys()) {
      const url = new URL(request.url);
      if (url.origin === resource.origin && execPattern(resource.collection, url.pathname)) work.push(refresh(cache, request, at, epoch).then((changed) => changed && request.url));
    }
    await announce(work);
  };
  await Promise.all([announce(items), lists()]);
}
