/**
 * Read-your-writes: a GET of a declared resource is answered as the server's
 * last answer (from the cache or the network, whichever the route's strategy
 * gave) plus the resource's writes still in the outbox. Applied on read, so
 * a revalidated base never erases a local change that is still waiting.
 */
import type { ResourceUrl } from '../resources/resources.js';
import { overlayCollection, overlayItem } from './apply.js';
import { localWrites } from './local-writes.js';

const json = (body: unknown, status: number, headers: Headers, pending: number) => {
  headers.delete('content-length');
  headers.delete('content-encoding');
  headers.set('content-type', headers.get('content-type') ?? 'application/json');
  headers.set('x-outbox-pending', String(pending));
  return new Response(JSON.stringify(body), { status, headers });
};

/** The JSON value of a 2xx JSON response; `null` when there is a body that is not JSON (no overlay then). */
async function baseValue(response: Response | undefined): Promise<unknown> {
  if (!response?.ok) return undefined;
  try {
    return await response.clone().json();
  } catch {
    return null;
  }
}

/**
 * `base` gives the strategy's answer; it may throw (offline, nothing
 * cached): with local writes to show, the overlay then starts from nothing
 * (a collection first seen offline is empty; an item created offline is
 * there), and without any the error goes on to the page as before.
 */
export async function readWithOverlay(target: ResourceUrl, base: () => Promise<Response>): Promise<Response> {
  const { resource, id } = target;
  const all = await localWrites(resource.name);
  const writes = id === undefined ? all : all.filter((w) => w.id === id);
  if (!writes.length) return base();
  let response: Response | undefined;
  try {
    response = await base();
  } catch {}
  const value = await baseValue(response);
  if (value === null) return response!;
  const headers = new Headers(response?.ok ? response.headers : undefined);
  const shape = { idField: resource.idField, pendingField: resource.spec.pendingField, itemsPath: resource.spec.itemsPath };
  if (id === undefined) {
    const list = overlayCollection(value, writes, shape);
    // A base that is not the declared shape is served as it is.
    return list === undefined ? response! : json(list, response?.ok ? response.status : 200, headers, writes.length);
  }
  const item = overlayItem(value, id, writes, shape);
  // Deleted locally (the deletion waits to be sent), or a change to an item never fetched.
  if (item === undefined) return json({ error: 'not-found', message: `${resource.name} ${id} is not here` }, 404, headers, writes.length);
  return json(item, response?.ok ? response.status : 200, headers, writes.length);
}
