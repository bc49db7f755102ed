/**
 * The baseline: a plain Workbox worker, written the way Workbox's docs show
 * background sync ("Workbox background sync", BackgroundSyncPlugin on a
 * NetworkOnly route), with nothing tuned for the benchmark.
 *
 * - POST /api/r/... goes to the network; when the network fails, the plugin
 *   stores the request in IndexedDB (database `workbox-background-sync`,
 *   store `requests`, queue `bench-queue`) and re-throws, so the page's fetch
 *   rejects. The queue replays on the Background Sync event
 *   `workbox-background-sync:bench-queue`, one request at a time.
 * - The page itself (navigations) is NetworkFirst, so it reloads offline.
 * - GET /api/items/... is CacheFirst (cache `bench-items`), as Workbox's docs
 *   show a cache-first route; GET /api/other/... has no route on purpose.
 * - PATCH /api/items/... (the `overlay` case's writes) is queued the same
 *   way, in the queue `bench-queue-items`.
 * - For the `notice` case, the collections' pages (/api/items?page=N,
 *   /api/notes?page=N) and the notes (/api/notes/...) are CacheFirst into the
 *   same cache. Workbox has no change notices: on one, the bench page purges
 *   every cache (bench/lib/page.js, watchNotice), as an app would have to.
 *
 * Built by `bench/workbox-baseline/build.mjs` into one classic script.
 */
import { BackgroundSyncPlugin } from 'workbox-background-sync';
import { clientsClaim } from 'workbox-core';
import { registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkFirst, NetworkOnly } from 'workbox-strategies';

declare const self: ServiceWorkerGlobalScope;

// workbox-core's skipWaiting() is deprecated in favour of calling it directly.
void self.skipWaiting();
clientsClaim();

registerRoute(({ request }) => request.mode === 'navigate', new NetworkFirst({ cacheName: 'bench-pages' }));

registerRoute(
  /\/api\/r\/.+/,
  new NetworkOnly({
    plugins: [new BackgroundSyncPlugin('bench-queue', { maxRetentionTime: 24 * 60 })],
  }),
  'POST',
);

registerRoute(/\/api\/items\/.+/, new CacheFirst({ cacheName: 'bench-items' }));

// The `overlay` case's item writes, queued like the others (Workbox has no read-your-writes).
registerRoute(
  /\/api\/items\/.+/,
  new NetworkOnly({
    plugins: [new BackgroundSyncPlugin('bench-queue-items', { maxRetentionTime: 24 * 60 })],
  }),
  'PATCH',
);

registerRoute(({ url }) => /^\/api\/(items|notes)$|^\/api\/notes\/.+/.test(url.pathname), new CacheFirst({ cacheName: 'bench-items' }));
