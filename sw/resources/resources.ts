/**
 * The manifest's declared resources, compiled: which URLs are a resource's
 * collection and which are its items, and under which id.
 */
import { compilePattern, execPattern, type CompiledPattern } from '../manifest/pattern.js';
import type { Manifest, ResourceSpec } from '../manifest/types.js';

export interface Resource {
  readonly name: string;
  readonly spec: ResourceSpec;
  readonly idField: string;
  readonly collection: CompiledPattern;
  readonly item: CompiledPattern;
  /** The origin of its URLs: that of the routes naming it, else the worker's. */
  readonly origin: string;
}

/** A URL of a declared resource: the collection (any query string), or one item. */
export interface ResourceUrl {
  readonly resource: Resource;
  /** The item's id (decoded), or undefined for the collection. */
  readonly id?: string;
}

/** One resource; `origin`: that of its URLs. Throws on a pattern that does not compile (a resource declared in code). */
export function compileResource(name: string, spec: ResourceSpec, origin: string): Resource {
  const compile = (field: 'collection' | 'item') => {
    const pattern = compilePattern(spec[field]);
    if (typeof pattern === 'string') throw new TypeError(`offline-outbox: resource ${JSON.stringify(name)}: ${field}: ${pattern}`);
    return pattern;
  };
  return { name, spec, idField: spec.idField ?? 'id', collection: compile('collection'), item: compile('item'), origin };
}

export function compileResources(manifest: Manifest, selfOrigin: string): Resource[] {
  return Object.entries(manifest.resources ?? {}).map(([name, spec]) =>
    compileResource(name, spec, manifest.routes.find((r) => r.resource === name && r.origin)?.origin ?? selfOrigin),
  );
}

export const named = (resources: readonly Resource[], name?: string): Resource | undefined => resources.find((r) => r.name === name);

/** The resource a URL belongs to; `only` restricts the search to one (a route's `resource`). */
export function resourceUrl(resources: readonly Resource[], url: URL, only?: string): ResourceUrl | undefined {
  for (const resource of resources) {
    if (resource.origin !== url.origin || (only && resource.name !== only)) continue;
    if (execPattern(resource.collection, url.pathname)) return { resource };
    const params = execPattern(resource.item, url.pathname);
    // The item pattern's first parameter is the id.
    const raw = params?.[resource.item.names[0]!];
    if (raw !== undefined) return { resource, id: decodeURIComponent(raw) };
  }
  return undefined;
}

/** The URL of item `id`: the item pattern with its id segment filled. */
export function itemUrl(resource: Resource, id: string): string {
  let first = true;
  const path = resource.spec.item.replace(/:[A-Za-z_$][\w$]*\??|\*/g, (token) => {
    if (!first) return token;
    first = false;
    return encodeURIComponent(id);
  });
  return resource.origin + path;
}
