/**
 * The manifest's routes on a workbox-routing Router: one `Route` per route
 * and method, in the manifest's order (the first matching route wins, as
 * written). GETs go to the route's workbox-strategies strategy, writes to an
 * OutboxStrategy.
 *
 * Matching stays O(1) in the number of routes: the Router asks its routes in
 * turn, and each answers from one lookup per request in the indexed route
 * table (route-table.ts), made by the first route asked.
 */
import type { RouteHandler, WorkboxPlugin } from 'workbox-core/types.js';
import { Route, type Router } from 'workbox-routing';
import { createStrategy, stores } from '../cache/strategies.js';
import type { HttpMethod, Manifest } from '../manifest/types.js';
import { OutboxStrategy } from '../outbox/outbox-strategy.js';
import { storeThrough, type CacheLocation } from '../resources/revalidate.js';
import { getScope } from '../scope.js';
import { compileRoutes, findRoute, type CompiledRoute, type RouteMatch, type RouteTable } from './route-table.js';

export interface ManifestRoutes {
  readonly manifest: Manifest;
  readonly table: RouteTable;
  /** The cache of each caching GET route, by route index. */
  readonly caches: ReadonlyMap<number, CacheLocation>;
  /** Takes the routes off the Router (a newer manifest replaces them). */
  remove(): void;
}

export interface RouteOptions {
  origin: string;
  /** URLs never routed (the manifest itself). */
  exclude: readonly string[];
  /** Every route's cache is named `<cachePrefix><the route's match, or its cache.name>`. */
  cachePrefix: string;
  /** Plugins every GET route gets (read-your-writes, the replay hint). */
  shared: readonly WorkboxPlugin[];
}

/** Registers `manifest`'s routes on `router`. */
export function registerManifestRoutes(router: Router, manifest: Manifest, options: RouteOptions): ManifestRoutes {
  const table = compileRoutes(manifest, options.origin, options.exclude);
  const found = new WeakMap<Request, RouteMatch | null>();
  const lookup = (request: Request, url: URL) => {
    let match = found.get(request);
    if (match === undefined) found.set(request, (match = findRoute(table, request.method, url) ?? null));
    return match;
  };
  const caches = new Map<number, CacheLocation>();
  const handlerOf = (route: CompiledRoute, method: HttpMethod): RouteHandler => {
    if (method !== 'GET') return new OutboxStrategy({ route: route.spec });
    const cache = route.spec.cache!;
    const label = `${route.spec.origin ?? ''}${route.spec.match}`;
    const name = options.cachePrefix + (cache.name ?? label);
    const { strategy, plugins } = createStrategy(cache, name, options.shared, label);
    if (stores(cache)) caches.set(route.index, { name, plugins });
    return strategy;
  };
  const routes = table.routes.flatMap((route) => {
    const methods = route.spec.methods ?? ['GET'];
    return methods.map((method) => {
      const match = ({ request, url }: { request: Request; url: URL }) => {
        const m = lookup(request, url);
        if (m?.route !== route) return false;
        return Object.keys(m.params).length ? m.params : true;
      };
      return new Route(match, handlerOf(route, method), method);
    });
  });
  for (const route of routes) router.registerRoute(route);
  return {
    manifest,
    table,
    caches,
    remove: () => {
      for (const route of routes) router.unregisterRoute(route);
    },
  };
}

/** The cache a GET of `url` is kept in, by its route. */
export function cacheOf(routes: ManifestRoutes, url: string): CacheLocation | undefined {
  const match = findRoute(routes.table, 'GET', new URL(url));
  return match && routes.caches.get(match.route.index);
}

/**
 * What a first visit must leave cached: the caching GET routes whose match
 * is an exact path (no parameter, no wildcard), and the manifest's
 * `precache` list.
 */
export function firstVisitUrls(routes: ManifestRoutes, origin: string): string[] {
  const { manifest } = routes;
  // Same-origin only: another origin's assets come back opaque, which no route stores.
  const exact = routes.table.routes.filter((r) => r.origin === origin && r.pattern.names.length === 0 && (r.spec.methods ?? ['GET']).includes('GET') && stores(r.spec.cache));
  const urls = [...exact.map((r) => r.origin + r.spec.match), ...(manifest.precache ?? []).map((path) => new URL(path, origin).href)];
  return [...new Set(urls)];
}

/** Log-out: the routes' caches, and the expiration records beside them, in this scope only. */
export async function clearRouteCaches(routes: ManifestRoutes, cachePrefix: string): Promise<void> {
  const { caches } = getScope();
  for (const at of routes.caches.values())
    for (const plugin of at.plugins) if ('deleteCacheAndMetadata' in plugin) await (plugin as { deleteCacheAndMetadata(): Promise<void> }).deleteCacheAndMetadata();
  for (const name of await caches.keys()) if (name.startsWith(cachePrefix)) await caches.delete(name);
}

/** At activation: the caches of routes this manifest no longer has, in this scope only. */
export async function dropStaleCaches(routes: ManifestRoutes, cachePrefix: string): Promise<void> {
  const { caches } = getScope();
  const keep = new Set([...routes.caches.values()].map((c) => c.name));
  for (const name of await caches.keys()) if (name.startsWith(cachePrefix) && !keep.has(name)) await caches.delete(name);
}

/**
 * Fetches and caches one first-visit URL through its route's strategy, so
 * it is stored as that route stores; a cache-only route's strategy never
 * fetches, so its URLs are fetched here and stored through its plugins.
 */
export async function fillRoute(routes: ManifestRoutes, router: Router, url: string, event: ExtendableEvent): Promise<Response | undefined> {
  const request = new Request(url, { credentials: 'same-origin' });
  const match = findRoute(routes.table, 'GET', new URL(url));
  const at = match && match.route.spec.cache?.strategy === 'cache-only' && routes.caches.get(match.route.index);
  if (!at) return router.handleRequest({ request, event });
  const response = await fetch(request);
  return (await storeThrough(await getScope().caches.open(at.name), at, request, response.clone())) ? response : undefined;
}
