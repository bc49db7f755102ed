/**
 * Read-your-writes on a response: the server's last answer (from the cache
 * or the network, whichever the route's strategy gave) plus the resource's
 * writes still in the outbox. Applied on read, so a revalidated base never
 * erases a local change that is still waiting. No storage here: the writes
 * are handed in (see plugins/read-your-writes.ts).
 */
import type { ResourceUrl } from '../resources/resources.js';
import { overlayCollection, overlayItem, type LocalWrite } from './apply.js';

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
 * `response` is the strategy's answer, or undefined when it failed (offline,
 * nothing cached): the overlay then starts from nothing (a collection first
 * seen offline is empty; an item created offline is there). `writes` are the
 * resource's live writes in order, at least one.
 */
export async function overlaid(target: ResourceUrl, writes: LocalWrite[], response: Response | undefined): Promise<Response> {
  const { resource, id } = target;
  const value = await baseValue(response);
  if (value === null) return response!;
  const headers = new Headers(response?.ok ? response.headers : undefined);
  const status = response?.ok ? response.status : 200;
  const shape = { idField: resource.idField, pendingField: resource.spec.pendingField, itemsPath: resource.spec.itemsPath };
  if (id === undefined) {
    const list = overlayCollection(value, writes, shape);
    // A base that is not the declared shape is served as it is.
    return list === undefined ? response! : json(list, status, headers, writes.length);
  }
  const item = overlayItem(value, id, writes, shape);
  // Deleted locally (the deletion waits to be sent), or a change to an item never fetched.
  if (item === undefined) return json({ error: 'not-found', message: `${resource.name} ${id} is not here` }, 404, headers, writes.length);
  return json(item, status, headers, writes.length);
}
