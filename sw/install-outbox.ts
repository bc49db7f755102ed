/**
 * `installOutbox`: wires the manifest's routes into a service worker. The
 * drop-in `sw.js` calls it with the manifest's URL; an app with its own
 * worker calls it with a URL or the manifest object.
 */
import { isOutboxRequest, type OutboxReply } from '../common/messages.js';
import { createStrategy, type Strategy } from './cache/strategy.js';
import { isOutboxError } from './errors.js';
import { checkManifest, fetchManifest } from './manifest/load-manifest.js';
import { readManifest, writeManifest } from './manifest/manifest-store.js';
import type { Manifest } from './manifest/types.js';
import { compileRoutes, findRoute, type CompiledRoute, type RouteMatch, type RouteTable } from './routing/route-table.js';
import { broadcast, inScope } from './outbox/broadcast.js';
import { createOutbox, SYNC_TAG, type OutboxManifest, type OutboxOptions } from './outbox/outbox.js';
import { serverIdFor } from './outbox/resource-write.js';
import { readWithOverlay } from './overlay/read.js';
import { compileResources, itemUrl, resourceUrl, type ResourceUrl } from './resources/resources.js';
import { getScope } from './scope.js';

export interface InstallOptions extends OutboxOptions {
  /** Activate a new worker as soon as it has installed. @default true */
  skipWaiting?: boolean;
  /** Take control of open pages when activated, so the first visit is served too. @default true */
  clientsClaim?: boolean;
}

const CACHE_PREFIX = 'offline-outbox:';
const NO_MANIFEST = 'offline-outbox: no stored manifest; requests pass through until the worker is reinstalled';

export function installOutbox(manifest: Manifest | string | URL, options: InstallOptions = {}): void {
  const scope = getScope();
  const cachePrefix = `${CACHE_PREFIX}${scope.registration.scope}:`;
  const manifestUrl = typeof manifest === 'object' && !(manifest instanceof URL) ? undefined : new URL(manifest, scope.location.href).href;
  // Several workers of one origin (other scopes, other manifests) share the database.
  const storeKey = `${scope.location.href} ${manifestUrl ?? ''}`;

  let table: RouteTable | undefined;
  const strategies = new Map<number, Strategy>();
  // What the outbox and the feed read of the manifest, filled in by use().
  const state: OutboxManifest = {
    resources: [],
    cacheOf: (url) => {
      const route = table && findRoute(table, 'GET', new URL(url))?.route;
      const cache = route?.spec.cache;
      return cache && cache.strategy !== 'network-only' ? { name: cacheName(route), options: cache } : undefined;
    },
    async clearCaches() {
      strategies.clear();
      for (const name of await scope.caches.keys()) if (name.startsWith(cachePrefix)) await scope.caches.delete(name);
    },
  };
  const use = (m: Manifest) => {
    table = compileRoutes(m, scope.location.origin, manifestUrl ? [manifestUrl] : []);
    state.resources = compileResources(m, scope.location.origin);
    state.changes = m.changes;
    strategies.clear();
  };
  // One cache per route, named by the route unless it names itself.
  const cacheName = ({ spec }: CompiledRoute) => cachePrefix + (spec.cache?.name ?? `${spec.origin ?? ''}${spec.match}`);
  const strategyFor = ({ route }: RouteMatch): Strategy => {
    let strategy = strategies.get(route.index);
    if (!strategy) strategies.set(route.index, (strategy = createStrategy(route.spec.cache!, cacheName(route), (event) => outbox.onNetworkSuccess(event))));
    return strategy;
  };

  const outbox = createOutbox(options, state);
  // The first event that wakes this worker instance also looks for writes
  // left in the outbox (a restart, a crash mid-replay).
  let woken = false;
  const wake = (event: ExtendableEvent) => {
    if (woken) return;
    woken = true;
    event.waitUntil(outbox.wake());
  };

  /**
   * Routing: the route table finds a request's route (see route-table.ts);
   * GETs go to the route's strategy, through the overlay for a
   * declared resource, and writes to the outbox. Decision: no
   * workbox-routing Router; the table already does its matching, and what
   * is left of the Router (dispatch) cost 1 KB of the worker's budget.
   */
  const handle = (event: FetchEvent): Promise<Response> | undefined => {
    const { request } = event;
    const url = new URL(request.url);
    const found = table && findRoute(table, request.method, url);
    if (!found) return undefined;
    outbox.noteRequest(request, event);
    if (request.method !== 'GET') {
      const response = outbox.handleWrite(request, found.route.spec, event.clientId);
      // The passes a write starts (a delivered write, a queued one) finish inside this event.
      event.waitUntil(response.then(outbox.idle, outbox.idle));
      return response;
    }
    const strategy = strategyFor(found);
    const target = state.resources.length ? resourceUrl(state.resources, url) : undefined;
    return target ? readResource(target, strategy, event) : strategy.handle(request, event);
  };

  async function readResource(target: ResourceUrl, strategy: Strategy, event: FetchEvent): Promise<Response> {
    // An item the app still knows by the local id the server has since replaced.
    const serverId = target.id !== undefined && target.resource.spec.ids === 'server' && (await serverIdFor(target.id));
    if (!serverId) return readWithOverlay(target, () => strategy.handle(event.request, event));
    const { headers, credentials } = event.request;
    const request = new Request(itemUrl(target.resource, serverId) + new URL(event.request.url).search, { headers, credentials });
    return readWithOverlay({ ...target, id: serverId }, () => strategy.handle(request, event));
  }

  let ready: Promise<void> = Promise.resolve();
  if (manifestUrl === undefined) {
    use(checkManifest(manifest, 'the manifest passed to installOutbox()'));
  } else {
    // A restarted worker reads its manifest back; the first fetch events may
    // arrive before that read finishes (see the fetch listener).
    ready = readManifest(storeKey).then(
      (stored) => {
        if (stored && !table) use(stored);
      },
      (error: unknown) => console.error(NO_MANIFEST, error),
    );
  }
  let settled = manifestUrl === undefined;
  let warned = false;
  void ready.then(() => (settled = true));

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
        if (options.skipWaiting !== false) await scope.skipWaiting();
      })(),
    );
  });

  scope.addEventListener('activate', (event) => {
    event.waitUntil(
      (async () => {
        // The browser may have stopped the worker between install and
        // activate: then the table is being read back from storage.
        await ready;
        if (table) {
          // Caches of routes this manifest no longer has, in this scope only.
          const keep = new Set(table.routes.filter((r) => r.spec.cache).map(cacheName));
          for (const name of await scope.caches.keys()) if (name.startsWith(cachePrefix) && !keep.has(name)) await scope.caches.delete(name);
        }
        if (options.clientsClaim !== false) await scope.clients.claim();
      })(),
    );
  });

  scope.addEventListener('fetch', (event) => {
    if (table || settled) {
      if (!table && !warned) {
        warned = true;
        console.warn(NO_MANIFEST, manifestUrl);
      }
      const response = handle(event);
      if (response) {
        event.respondWith(response);
        wake(event);
      }
      return;
    }
    // Cold start: the browser restarted this worker for this very request and
    // the stored manifest is still being read. respondWith must be called
    // now, so hold the request until the table is known; an unmatched one
    // then goes to the network as if the worker were not there.
    event.respondWith(ready.then(() => handle(event) ?? fetch(event.request)));
    wake(event);
  });

  scope.addEventListener('sync', (event) => {
    if (event.tag !== SYNC_TAG) return;
    woken = true;
    event.waitUntil(outbox.onSync(event));
  });

  scope.addEventListener('message', (event) => {
    const { data } = event;
    const port = event.ports[0];
    if (!isOutboxRequest(data) || !port) return;
    // Only pages inside this registration's scope may list, settle or clear its writes, or hand it notices.
    if (!inScope(event.source as Client | null)) {
      port.postMessage({ ok: false, error: { code: 'out-of-scope', message: `offline-outbox: only pages under ${scope.registration.scope} may ask this worker` } } satisfies OutboxReply);
      return;
    }
    wake(event);
    event.waitUntil(
      // A restarted worker may still be reading its manifest (resources, the feed).
      ready.then(() => outbox.answer(data)).then(
        (value): OutboxReply => ({ ok: true, value: value as never }),
        (error: { code?: unknown; message?: unknown }): OutboxReply => ({ ok: false, error: { code: typeof error?.code === 'string' ? error.code : 'worker-error', message: String(error?.message ?? error) } }),
      )
        .then((reply) => port.postMessage(reply))
        // Notices are answered at once and applied after: the worker stays up for that.
        .then(outbox.idle),
    );
  });
}

function reportInstallFailure(manifestUrl: string, error: unknown): void {
  console.error(`offline-outbox: install failed; the previous worker, if any, keeps serving.\n${String(error instanceof Error ? error.message : error)}`);
  broadcast('install-failed', { manifestUrl, errors: isOutboxError(error) ? [...error.details] : [String(error)] });
}
