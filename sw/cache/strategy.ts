/**
 * A route's cache strategy: network-first (with `networkTimeoutSeconds`),
 * stale-while-revalidate, cache-first and network-only, with the route's
 * store policy and expiration.
 *
 * Decision: our own four strategies, not workbox-strategies. Workbox's
 * Strategy/StrategyHandler machinery and the workbox-core pieces it pulls in
 * cost 4.4 KB gzipped of the worker's 15 KB budget, everything included;
 * these do the same jobs, as Workbox's documentation describes them, in
 * under 1 KB, and leave the room the overlay and change notices need.
 * Workbox remains the baseline every benchmark measures against.
 */
import type { CacheOptions } from '../manifest/types.js';
import { getScope } from '../scope.js';
import { expired, stamped, trim } from './expiration.js';
import { mayStore } from './store-policy.js';

export interface Strategy {
  /** Answers `request` (the page's, or one the worker built) during `event`. */
  handle(request: Request, event: ExtendableEvent): Promise<Response>;
}

/**
 * `onNetworkSuccess` hears every 2xx the network gives this route (the
 * outbox takes it as a sign that queued writes may go now).
 */
export function createStrategy(options: CacheOptions, cacheName: string, onNetworkSuccess: (event: ExtendableEvent) => void): Strategy {
  const { strategy, networkTimeoutSeconds } = options;
  // Opened once: a cache hit is then one match, not an open and a match.
  // clear() deletes the caches and drops the strategies that held them.
  let opened: Promise<Cache> | undefined;
  const open = () => (opened ??= getScope().caches.open(cacheName));

  const fromCache = async (request: Request): Promise<Response | undefined> => {
    if (strategy === 'network-only') return undefined;
    const cache = await open();
    const cached = await cache.match(request);
    if (!cached || !expired(cached, options.maxAgeSeconds)) return cached;
    void trim(cache, options);
    return undefined;
  };

  /**
   * The network's answer; what the route may store is stored (the page gets
   * its own copy). The event is kept alive for the storing from the start:
   * a browser refuses waitUntil once the page has its answer.
   */
  const fromNetwork = (request: Request, event: ExtendableEvent): Promise<Response> => {
    const response = fetch(request);
    event.waitUntil(
      response
        .then(async (r) => {
          if (r.ok) onNetworkSuccess(event);
          if (strategy === 'network-only' || !mayStore(options, r)) return;
          // Copied before the page can read the body.
          const copy = stamped(r.clone());
          const cache = await open();
          await cache.put(request, copy);
          if (options.maxEntries || options.maxAgeSeconds) await trim(cache, options);
        })
        // A network error is the caller's to handle; a full disk or a
        // refused entry costs the cache, never the answer.
        .catch(() => {}),
    );
    return response;
  };

  /** The network within `networkTimeoutSeconds`, else what `fallback` gives (or the network, late). */
  const networkWithin = async (request: Request, event: ExtendableEvent, fallback: () => Promise<Response | undefined>) => {
    const network = fromNetwork(request, event);
    if (!networkTimeoutSeconds) return network.catch(async (error: unknown) => (await fallback()) ?? Promise.reject(error));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<Response | undefined>((resolve) => (timer = setTimeout(() => resolve(fallback()), networkTimeoutSeconds * 1000)));
    try {
      // Whichever settles first with a response; a network error falls back at once.
      const first = await Promise.race([network.catch(() => fallback()), late]);
      return first ?? (await network);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async handle(request, event) {
      if (strategy === 'network-only')
        return networkWithin(request, event, () => Promise.reject(new DOMException(`no response within ${networkTimeoutSeconds} s`, 'TimeoutError')));
      if (strategy === 'network-first') return networkWithin(request, event, () => fromCache(request));
      const cached = await fromCache(request);
      // maxEntries keeps the most recently used: a hit goes back to the end
      // of the cache's key order (see expiration.ts).
      if (cached && options.maxEntries) {
        const copy = cached.clone();
        event.waitUntil(open().then((cache) => cache.put(request, copy)).catch(() => {}));
      }
      if (strategy === 'cache-first') return cached ?? fromNetwork(request, event);
      // stale-while-revalidate: the cached copy now, a fresh one for next time.
      const network = fromNetwork(request, event);
      if (!cached) return network;
      event.waitUntil(network.catch(() => {}));
      return cached;
    },
  };
}
