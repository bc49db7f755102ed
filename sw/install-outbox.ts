/**
 * `installOutbox`: the composition root. It puts the manifest's routes on a
 * workbox-routing Router, each GET route a workbox-strategies strategy with
 * our plugins (read-your-writes, the replay hint, the store policy,
 * ExpirationPlugin), each write route an OutboxStrategy; caches what a
 * first visit needs; and moves Workbox queues named by the manifest into the
 * outbox. The drop-in `sw.js` calls it with the manifest's URL; an app with
 * its own worker calls it with a URL or the manifest object, and may hand it
 * its own Router.
 */
import { clientsClaim } from 'workbox-core';
import { Router } from 'workbox-routing';
import { cacheFirstVisit, retryFirstVisit, type Fill } from './cache/first-visit.js';
import { isOutboxError } from './errors.js';
import { checkManifest, fetchManifest } from './manifest/load-manifest.js';
import { readManifest, writeManifest } from './manifest/manifest-store.js';
import type { Manifest } from './manifest/types.js';
import { outboxRuntime } from './outbox-runtime.js';
import type { OutboxOptions } from './outbox/outbox.js';
import { migrateWorkboxQueue } from './outbox/workbox-queues.js';
import { ReadYourWritesPlugin } from './plugins/read-your-writes.js';
import { ReplayHintPlugin } from './plugins/replay-hint.js';
import { compileResources } from './resources/resources.js';
import { storeThrough } from './resources/revalidate.js';
import { cacheOf, firstVisitUrls, registerManifestRoutes, type ManifestRoutes } from './routing/manifest-routes.js';
import { findRoute } from './routing/route-table.js';
import { getScope } from './scope.js';
import { broadcast } from './shared/broadcast.js';

export interface InstallOptions extends OutboxOptions {
  /**
   * The app's own workbox-routing Router: the manifest's routes are added to
   * it (after the app's own, when the manifest is read from storage), and
   * its fetch listener serves them. Without one, the outbox routes with a
   * Router of its own and its own fetch listener.
   */
  router?: Router;
  /** Activate a new worker as soon as it has installed. @default true */
  skipWaiting?: boolean;
  /** Take control of open pages when activated, so the first visit is served too. @default true */
  clientsClaim?: boolean;
}

const CACHE_PREFIX = 'offline-outbox:';
const NO_MANIFEST = 'offline-outbox: no stored manifest; requests pass through until the worker is reinstalled';

export function installOutbox(manifest: Manifest | string | URL, options: InstallOptions = {}): void {
  const scope = getScope();
  const origin = scope.location.origin;
  const runtime = outboxRuntime(options);
  const router = options.router ?? new Router();
  const cachePrefix = `${CACHE_PREFIX}${scope.registration.scope}:`;
  const manifestUrl = typeof manifest === 'object' && !(manifest instanceof URL) ? undefined : new URL(manifest, scope.location.href).href;
  // Several workers of one origin (other scopes, other manifests) share the database.
  const storeKey = `${scope.location.href} ${manifestUrl ?? ''}`;
  const shared = [new ReadYourWritesPlugin(), new ReplayHintPlugin()];

  let current: { manifest: Manifest; routes: ManifestRoutes } | undefined;
  const use = (m: Manifest) => {
    current?.routes.remove();
    const routes = registerManifestRoutes(router, m, {
      origin,
      exclude: manifestUrl ? [manifestUrl] : [],
      // One cache per route, named by the route unless it names itself.
      cacheName: ({ spec }) => cachePrefix + (spec.cache?.name ?? `${spec.origin ?? ''}${spec.match}`),
      shared,
    });
    current = { manifest: m, routes };
    runtime.useManifest(compileResources(m, origin), m.changes, {
      cacheOf: (url) => cacheOf(routes, url),
      async clear() {
        for (const at of routes.caches.values()) for (const plugin of at.plugins) if ('deleteCacheAndMetadata' in plugin) await (plugin as { deleteCacheAndMetadata(): Promise<void> }).deleteCacheAndMetadata();
        for (const name of await scope.caches.keys()) if (name.startsWith(cachePrefix)) await scope.caches.delete(name);
      },
    });
  };

  let ready: Promise<void> = Promise.resolve();
  if (manifestUrl === undefined) {
    use(checkManifest(manifest, 'the manifest passed to installOutbox()'));
  } else {
    // A restarted worker reads its manifest back; the first fetch events may
    // arrive before that read finishes (see the fetch listener).
    ready = readManifest(storeKey).then(
      (stored) => {
        if (stored && !current) use(stored);
      },
      (error: unknown) => console.error(NO_MANIFEST, error),
    );
    runtime.ready = Promise.all([runtime.ready, ready]);
  }
  let settled = manifestUrl === undefined;
  let warned = false;
  void ready.then(() => (settled = true));
  /** A request before any manifest is known (never installed, or storage lost): said once. */
  const warnUnrouted = () => {
    if (current || warned) return;
    warned = true;
    console.warn(NO_MANIFEST, manifestUrl);
  };
  /**
   * A first-visit URL goes through its route's strategy, so it is stored as
   * that route stores; a cache-only route's strategy never fetches, so its
   * URLs are fetched here and stored through the route's plugins.
   */
  const fill: Fill = async (url, event) => {
    const request = new Request(url, { credentials: 'same-origin' });
    const match = current && findRoute(current.routes.table, 'GET', new URL(url));
    const at = match && match.route.spec.cache?.strategy === 'cache-only' && current!.routes.caches.get(match.route.index);
    if (!at) return router.handleRequest({ request, event });
    const response = await fetch(request);
    return (await storeThrough(await scope.caches.open(at.name), at, request, response.clone())) ? response : undefined;
  };
  runtime.onWake.push((event) => retryFirstVisit(fill, event, storeKey));

  scope.addEventListener('install', (event) => {
    event.waitUntil(
      (async () => {
        if (manifestUrl !== undefined) {
          try {
            const fresh = await fetchManifest(manifestUrl);
            await writeManifest(storeKey, fresh);
            use(fresh);
          } catch (error) {
            reportInstallFailure(manifestUrl, error);
            throw error;
          }
        }
        await ready;
        if (current) await cacheFirstVisit(fill, firstVisitUrls(current.routes, current.manifest, origin), event, storeKey);
        if (options.skipWaiting !== false) await scope.skipWaiting();
      })(),
    );
  });

  if (options.clientsClaim !== false) clientsClaim();
  scope.addEventListener('activate', (event) => {
    event.waitUntil(
      (async () => {
        // The browser may have stopped the worker between install and
        // activate: then the manifest is being read back from storage.
        await ready;
        if (!current) return;
        // Caches of routes this manifest no longer has, in this scope only.
        const keep = new Set([...current.routes.caches.values()].map((c) => c.name));
        for (const name of await scope.caches.keys()) if (name.startsWith(cachePrefix) && !keep.has(name)) await scope.caches.delete(name);
        await moveWorkboxQueues(current);
      })(),
    );
  });

  /** The manifest's `workboxQueues`, moved into the outbox (see workbox-queues.ts); a failure is logged and tried again at the next activation. */
  async function moveWorkboxQueues({ manifest: m, routes }: { manifest: Manifest; routes: ManifestRoutes }) {
    const { outbox } = runtime;
    const adopter = {
      routeOf: (request: Request) => findRoute(routes.table, request.method, new URL(request.url))?.route.spec ?? { match: new URL(request.url).pathname },
      adopt: (request: Request, route: Parameters<typeof outbox.handleWrite>[1], write: { key: string; createdAt: number; reason: string }) =>
        outbox.handleWrite(request, route, '', fetch, write),
    };
    let moved = 0;
    for (const name of m.workboxQueues ?? []) {
      try {
        moved += await migrateWorkboxQueue(name, adopter);
      } catch (error) {
        console.error(`offline-outbox: moving the Workbox queue "${name}" failed; what was not moved stays in it`, error);
      }
    }
    if (moved) await outbox.syncNow().catch(() => {});
  }

  if (options.router) {
    // The app's Router serves the routes; until a stored manifest is read
    // (a cold start), its listener finds none of ours: hold such a request
    // until the routes are known, unless the app's routes answered it.
    if (!settled)
      scope.addEventListener('fetch', (event) => {
        if (settled) return;
        try {
          event.respondWith(ready.then(() => router.handleRequest({ request: event.request, event }) ?? fetch(event.request)));
        } catch {
          // The app's Router answered it already.
        }
      });
    return;
  }
  router.addCacheListener();
  scope.addEventListener('fetch', (event) => {
    if (settled) {
      warnUnrouted();
      const response = router.handleRequest({ request: event.request, event });
      if (response) event.respondWith(response);
      return;
    }
    // Cold start: the browser restarted this worker for this very request and
    // the stored manifest is still being read. respondWith must be called
    // now, so hold the request until the routes are known; an unmatched one
    // then goes to the network as if the worker were not there.
    event.respondWith(ready.then(() => router.handleRequest({ request: event.request, event }) ?? fetch(event.request)));
  });
}

function reportInstallFailure(manifestUrl: string, error: unknown): void {
  console.error(`offline-outbox: install failed; the previous worker, if any, keeps serving.\n${String(error instanceof Error ? error.message : error)}`);
  broadcast('install-failed', { manifestUrl, errors: isOutboxError(error) ? [...error.details] : [String(error)] });
}
