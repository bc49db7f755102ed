/**
 * `installOutbox`: the composition root. The manifest's routes go on a
 * workbox-routing Router (manifest-routes.ts): each GET route a
 * workbox-strategies strategy with our plugins (read-your-writes, the
 * replay hint, the store policy) and ExpirationPlugin, each write route an
 * OutboxStrategy. At install the worker caches what a first visit needs; at
 * activation it drops stale caches and moves the Workbox queues the
 * manifest names into the outbox. The drop-in `sw.js` calls it with the
 * manifest's URL; an app with its own worker calls it with a URL or the
 * manifest object, and may hand it its own Router.
 */
import { clientsClaim } from 'workbox-core';
import { Router } from 'workbox-routing';
import { cacheFirstVisit, retryFirstVisit, type Fill } from './cache/first-visit.js';
import { installedManifest } from './manifest/installed-manifest.js';
import type { Manifest } from './manifest/types.js';
import { outboxRuntime } from './outbox-runtime.js';
import type { OutboxOptions } from './outbox/outbox.js';
import { moveWorkboxQueues } from './outbox/workbox-queues.js';
import { ReadYourWritesPlugin } from './plugins/read-your-writes.js';
import { ReplayHintPlugin } from './plugins/replay-hint.js';
import { compileResources } from './resources/resources.js';
import { holdUntilRouted, routeFetches } from './routing/fetch-listener.js';
import { cacheOf, clearRouteCaches, dropStaleCaches, fillRoute, firstVisitUrls, registerManifestRoutes, type ManifestRoutes } from './routing/manifest-routes.js';
import { findRoute } from './routing/route-table.js';
import { getScope } from './scope.js';

export interface InstallOptions extends OutboxOptions {
  /**
   * The app's own workbox-routing Router: the manifest's routes are added to
   * it (after the app's own, when the manifest is read from storage), and
   * its fetch listener serves them (call its addCacheListener() for the
   * first visit's URLs). Without one, the outbox routes with a Router of its
   * own and its own fetch listener.
   */
  router?: Router;
  /** Activate a new worker as soon as it has installed. @default true */
  skipWaiting?: boolean;
  /** Take control of open pages when activated, so the first visit is served too. @default true */
  clientsClaim?: boolean;
}

export function installOutbox(manifest: Manifest | string | URL, options: InstallOptions = {}): void {
  const scope = getScope();
  const origin = scope.location.origin;
  const runtime = outboxRuntime(options);
  const router = options.router ?? new Router();
  const manifestUrl = typeof manifest === 'object' && !(manifest instanceof URL) ? undefined : new URL(manifest, scope.location.href).href;
  // Several workers of one origin (other scopes, other manifests) share the database.
  const id = `${scope.location.href} ${manifestUrl ?? ''}`;
  const cachePrefix = `offline-outbox:${scope.registration.scope}:`;
  const shared = [new ReadYourWritesPlugin(), new ReplayHintPlugin()];

  let routes: ManifestRoutes | undefined;
  const source = installedManifest(manifestUrl ?? (manifest as Manifest), id, (m) => {
    routes?.remove();
    const next = (routes = registerManifestRoutes(router, m, { origin, exclude: manifestUrl ? [manifestUrl] : [], cachePrefix, shared }));
    runtime.useManifest(compileResources(m, origin), m.changes, { cacheOf: (url) => cacheOf(next, url), clear: () => clearRouteCaches(next, cachePrefix) });
  });
  runtime.ready = Promise.all([runtime.ready, source.ready]);
  const fill: Fill = async (url, event) => (routes ? fillRoute(routes, router, url, event) : undefined);
  runtime.onWake.push((event) => retryFirstVisit(fill, event, id));

  scope.addEventListener('install', (event) => {
    const installing = async () => {
      await source.install();
      await source.ready;
      if (routes) await cacheFirstVisit(fill, firstVisitUrls(routes, origin), event, id);
      if (options.skipWaiting !== false) await scope.skipWaiting();
    };
    event.waitUntil(installing());
  });

  if (options.clientsClaim !== false) clientsClaim();
  scope.addEventListener('activate', (event) => {
    const activating = async () => {
      // The browser may have stopped the worker between install and activate: then the manifest is being read back.
      await source.ready;
      if (!routes) return;
      const { table, manifest: m } = routes;
      await dropStaleCaches(routes, cachePrefix);
      await moveWorkboxQueues(m.workboxQueues ?? [], runtime.outbox, (request) => findRoute(table, request.method, new URL(request.url))?.route.spec);
    };
    event.waitUntil(activating());
  });

  if (options.router) {
    holdUntilRouted(router, source.ready, source.settled);
    return;
  }
  router.addCacheListener();
  routeFetches(router, source.ready, source.settled, source.warnIfMissing);
}
