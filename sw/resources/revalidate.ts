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
import { itemUrl, resourceUrl, type Resource } from './resources.js';

/** Where a route keeps its GETs: the cache, and the route's plugins that decide what is stored and when it expires. */
export interface CacheLocation {
  name: string;
  plugins: readonly WorkboxPlugin[];
}

/** The cache a GET of `url` is kept in, by its route; undefined when no cached route serves it. */
export type CacheLookup = (url: string) => CacheLocation | undefined;

/**
 * Refreshed answers on their way into the cache, by cache and URL. Until
 * the cache has written one, a GET through the worker is served it in place
 * of the copy it replaces (ReadYourWritesPlugin), so pages are told an item
 * changed as soon as its answer is in, not once the write has reached the
 * disk. A write that fails leaves the cache as it was.
 */
const storing = new Map<string, Response>();
const storingKey = (cacheName: string, url: string) => `${cacheName} ${url}`;

/** The refreshed answer for `url` that `cacheName` is writing now, if any (a copy). */
export const beingStored = (cacheName: string, url: string): Response | undefined =>
  // Almost always empty: a cached GET then pays no key to build.
  storing.size ? storing.get(storingKey(cacheName, url))?.clone() : undefined;

/**
 * Stores a refetched response as the route's strategy would: its
 * `cacheWillUpdate` plugins decide (our store policy when it has none), and
 * its `cacheDidUpdate` plugins hear of it (ExpirationPlugin's timestamps).
 * A refresh has no fetch event to hand them: these two callbacks use none.
 * `accepted`: called once the answer is to be stored, before the cache has
 * written it; meanwhile it is served from memory (see `storing`).
 */
export async function storeThrough(cache: Cache, at: CacheLocation, request: Request, response: Response, accepted?: () => void): Promise<boolean> {
  const policies = at.plugins.filter((p) => p.cacheWillUpdate);
  let stored: Response | null | undefined = policies.length || mayStore({}, response) ? response : null;
  for (const plugin of policies) if (stored) stored = (await plugin.cacheWillUpdate!({ request, response: stored } as never)) ?? null;
  if (!stored) return false;
  const key = storingKey(at.name, request.url);
  const copy = accepted && stored.clone();
  if (copy) {
    storing.set(key, copy);
    accepted!();
  }
  try {
    await cache.put(request, stored);
  } finally {
    if (copy && storing.get(key) === copy) storing.delete(key);
  }
  for (const plugin of at.plugins) await plugin.cacheDidUpdate?.({ cacheName: at.name, request, newResponse: stored } as never);
  return true;
}

/**
 * What a refetch did to a cached entry: changed it (a new body, or the item
 * is gone), found it current (304, or nothing cached to refresh), left it
 * stale (an answer the cache would not keep: an error status, no-store), or
 * got no answer (the network failed, or a log-out came first).
 */
type Refreshed = 'changed' | 'current' | 'stale' | 'unanswered';

/** Refetches one cached entry, conditionally (`accepted`: see storeThrough). */
async function refresh(cache: Cache, request: Request, at: CacheLocation, epoch: number, accepted?: () => void): Promise<Refreshed> {
  const cached = await cache.match(request);
  if (!cached) return 'current';
  const headers = new Headers();
  const etag = cached.headers.get('etag');
  const modified = cached.headers.get('last-modified');
  if (etag) headers.set('if-none-match', etag);
  if (modified) headers.set('if-modified-since', modified);
  let response: Response;
  try {
    response = await fetch(request.url, { headers, credentials: request.credentials, cache: 'no-store', signal: epochSignal() });
  } catch {
    return 'unanswered';
  }
  // After a log-out nothing from before it is cached again.
  if (!isCurrent(epoch)) return 'unanswered';
  if (response.status === 304) return 'current';
  if (response.status === 404 || response.status === 410) return (await cache.delete(request)) ? 'changed' : 'current';
  return (await storeThrough(cache, at, request, response, accepted)) ? 'changed' : 'stale';
}

/** Tells pages the URLs that changed (but those in `told`); returns every outcome. */
function announce(done: [string, Refreshed][], told?: ReadonlySet<string>): Refreshed[] {
  const urls = done.filter(([url, r]) => r === 'changed' && !told?.has(url)).map(([url]) => url);
  if (urls.length) broadcast('cache-updated', { urls });
  return done.map(([, r]) => r);
}
const upToDate = (r: Refreshed) => r === 'changed' || r === 'current';

/**
 * The cached requests that may be variants of the resource's collection. A
 * literal collection path (`/api/todos`) is looked up by URL, any query
 * string: the cache answers from its index, not by handing the worker every
 * request it holds (a thousand of them, cloned, would delay the item's own
 * refresh, whose write to the cache waits for reads under way).
 */
const collectionKeys = (cache: Cache, resource: Resource): Promise<readonly Request[]> =>
  resource.collection.names.length ? cache.keys() : cache.keys(resource.origin + resource.spec.collection, { ignoreSearch: true, ignoreVary: true });

/**
 * Refreshes the cached item `ids` of `resource` and the cached variants of
 * its collection; tells pages which URLs changed, each item as soon as its
 * answer is in (one refetch), then the collections. Resolves with whether
 * every entry it named is now as the server has it (each answered, and kept).
 */
export async function revalidate(resource: Resource, ids: Iterable<string>, cacheOf: CacheLookup): Promise<boolean> {
  const { caches } = getScope();
  const epoch = currentEpoch();
  // An item is announced as soon as its new answer is in (served from memory until the cache has it).
  const told = new Set<string>();
  const tell = (url: string) => () => {
    told.add(url);
    broadcast('cache-updated', { urls: [url] });
  };
  const items = [...ids].map(async (id): Promise<[string, Refreshed]> => {
    const url = itemUrl(resource, id);
    const at = cacheOf(url);
    if (!at) return [url, 'current'];
    if (!isCurrent(epoch)) return [url, 'unanswered'];
    return [url, await refresh(await caches.open(at.name), new Request(url), at, epoch, tell(url))];
  });
  const lists = async () => {
    const at = cacheOf(resource.origin + resource.spec.collection);
    if (!at) return [];
    if (!isCurrent(epoch)) return ['unanswered' as const];
    const cache = await caches.open(at.name);
    const work: Promise<[string, Refreshed]>[] = [];
    for (const request of await collectionKeys(cache, resource)) {
      const url = new URL(request.url);
      if (url.origin === resource.origin && execPattern(resource.collection, url.pathname)) work.push(refresh(cache, request, at, epoch).then((r) => [request.url, r]));
    }
    return announce(await Promise.all(work));
  };
  // The items first, the collection's variants once the items are stored:
  // the cache lets a write start only after the reads under way, so the
  // item's refresh would otherwise wait on every variant's lookup.
  const fresh = announce(await Promise.all(items), told);
  return [...fresh, ...(await lists())].every(upToDate);
}

/** Refetches of every cached entry at once (a reset): enough to keep the connections busy, not a thousand requests queued in the browser. */
const RESET_CONCURRENCY = 12;

/**
 * Refreshes, once each, every cached entry of `resources` (each collection
 * variant and each item), conditionally: the feed said it cannot tell what
 * changed (`reset`). An entry counts where its route keeps it (`cacheOf`),
 * so a copy left in another cache is not fetched twice. Resolves with
 * whether every refetch got an answer (an entry the cache would not keep
 * stays as it was: asking again would not help it).
 */
export async function revalidateAll(resources: readonly Resource[], cacheOf: CacheLookup): Promise<boolean> {
  const { caches } = getScope();
  const epoch = currentEpoch();
  const todo: { cache: Cache; request: Request; at: CacheLocation }[] = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const at = resourceUrl(resources, new URL(request.url)) && cacheOf(request.url);
      if (at && at.name === name) todo.push({ cache, request, at });
    }
  }
  const done: [string, Refreshed][] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(RESET_CONCURRENCY, todo.length) }, async () => {
      while (next < todo.length && isCurrent(epoch)) {
        const { cache, request, at } = todo[next++]!;
        done.push([request.url, await refresh(cache, request, at, epoch)]);
      }
    }),
  );
  const outcomes = announce(done);
  return outcomes.length === todo.length && !outcomes.includes('unanswered');
}
