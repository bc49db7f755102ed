/**
 * The compiled manifest routes, indexed so that finding a request's route
 * costs the same with 5 routes or 500: a bucket per method and origin, then
 * per first path segment; only the few routes in the request's bucket (and
 * those whose first segment is a parameter or wildcard) are tested.
 */
import { compilePattern, execPattern, type CompiledPattern } from '../manifest/pattern.js';
import type { HttpMethod, Manifest, RouteSpec } from '../manifest/types.js';

export interface CompiledRoute {
  /** Position in `manifest.routes`: the first matching route wins, as written. */
  readonly index: number;
  readonly spec: RouteSpec;
  readonly pattern: CompiledPattern;
  readonly origin: string;
}

interface Bucket {
  readonly bySegment: Map<string, CompiledRoute[]>;
  readonly anySegment: CompiledRoute[];
}

export interface RouteTable {
  readonly routes: readonly CompiledRoute[];
  readonly buckets: ReadonlyMap<string, Bucket>;
  /** URLs the table never routes (the manifest itself), as origin + pathname. */
  readonly excluded: ReadonlySet<string>;
}

export function compileRoutes(manifest: Manifest, selfOrigin: string, exclude: readonly string[] = []): RouteTable {
  const buckets = new Map<string, Bucket>();
  const routes = manifest.routes.map((spec, index): CompiledRoute => {
    const pattern = compilePattern(spec.match);
    // The manifest was validated before it got here.
    if (typeof pattern === 'string') throw new TypeError(`routes[${index}].match: ${pattern}`);
    const route = { index, spec, pattern, origin: spec.origin ?? selfOrigin };
    for (const method of spec.methods ?? ['GET']) {
      const key = `${method} ${route.origin}`;
      let bucket = buckets.get(key);
      if (!bucket) buckets.set(key, (bucket = { bySegment: new Map(), anySegment: [] }));
      const segment = pattern.firstSegment;
      if (segment === undefined) bucket.anySegment.push(route);
      else bucket.bySegment.set(segment, [...(bucket.bySegment.get(segment) ?? []), route]);
    }
    return route;
  });
  const excluded = new Set(exclude.map((href) => new URL(href).origin + new URL(href).pathname));
  return { routes, buckets, excluded };
}

export interface RouteMatch {
  readonly route: CompiledRoute;
  readonly params: Record<string, string>;
}

export function findRoute(table: RouteTable, method: HttpMethod | string, url: URL): RouteMatch | undefined {
  const bucket = table.buckets.get(`${method} ${url.origin}`);
  if (!bucket) return undefined;
  const path = url.pathname;
  const slash = path.indexOf('/', 1);
  const segment = path.slice(1, slash === -1 ? undefined : slash);
  let best: RouteMatch | undefined;
  for (const list of [bucket.bySegment.get(segment), bucket.anySegment]) {
    for (const route of list ?? []) {
      if (best && best.route.index < route.index) break;
      const params = execPattern(route.pattern, path);
      if (params) {
        best = { route, params };
        break;
      }
    }
  }
  if (best && table.excluded.has(url.origin + path)) return undefined;
  return best;
}
