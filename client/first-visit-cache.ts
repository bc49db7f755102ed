/**
 * First-visit caching. On a first visit the page loads before any worker
 * controls it, so the page, its scripts and styles never went through the
 * worker's cache routes, and the page would not open offline until its next
 * load. Once the new worker takes control, the page tells it what it already
 * loaded, in Workbox's own message (workbox-window's `CACHE_URLS`, which
 * workbox-routing understands); the worker fetches those again and keeps the
 * ones its cache routes match.
 */

/** workbox-window's message, as workbox-routing's `addCacheListener` reads it. */
export interface CacheUrlsMessage {
  type: 'CACHE_URLS';
  meta: 'workbox-window';
  payload: { urlsToCache: string[] };
}

/**
 * The page's own URL (without its fragment) and every resource it loaded,
 * same-origin http(s) only, without duplicates. Resource timing has no
 * method: these are re-requested as GETs, and a write's URL is only cached
 * if a cache route names it. The browser keeps the first 250 entries unless
 * the page asks for more: a page's shell fits.
 */
export function loadedUrls(): string[] {
  const urls = new Set<string>();
  for (const name of [location.href, ...performance.getEntriesByType('resource').map((entry) => entry.name)]) {
    try {
      const url = new URL(name);
      url.hash = '';
      // A blob: URL shares the page's origin, but there is nothing to fetch.
      if (url.origin === location.origin && /^https?:$/.test(url.protocol)) urls.add(url.href);
    } catch {}
  }
  return [...urls];
}

/**
 * Sends the worker that first takes control of this page the URLs it loaded,
 * once. A page already controlled at load sends nothing: its requests went
 * through the worker.
 */
export function cacheOnFirstControl(): void {
  const sw = navigator.serviceWorker as ServiceWorkerContainer | undefined;
  if (!sw || sw.controller) return;
  sw.addEventListener(
    'controllerchange',
    () => {
      const message: CacheUrlsMessage = { type: 'CACHE_URLS', meta: 'workbox-window', payload: { urlsToCache: loadedUrls() } };
      sw.controller?.postMessage(message);
    },
    { once: true },
  );
}
