/**
 * What a write to a declared resource needs before it is sent or stored: the
 * item it concerns (its ordering group), an id for a create, a server id in
 * place of a local one the server has since replaced, and If-Match from the
 * cached item so that a write made against an old version is caught.
 */
import { get, set } from 'idb-keyval';
import { isObject } from '../overlay/merge-patch.js';
import { itemUrl, type ResourceUrl } from '../resources/resources.js';
import { metaStore } from '../store/db.js';

export interface ResourceWrite {
  url: string;
  /** The item written, and whether its id is local (a create the server will name). */
  itemId?: string;
  tempId?: boolean;
  /** The body, as sent and stored (a create may have gained its id). */
  body: ArrayBuffer | null;
  /** The parsed JSON body, when it is JSON. */
  value?: unknown;
}

const LOCAL_ID = (id: string) => `local-id ${id}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Records that the server named a locally created item `serverId`. */
export const rememberServerId = (localId: string, serverId: string): Promise<void> => set(LOCAL_ID(localId), serverId, metaStore);

/** The server's id for a local one it has replaced, if any (only UUIDs are looked up). */
export const serverIdFor = async (id: string): Promise<string | undefined> => (UUID.test(id) ? get<string>(LOCAL_ID(id), metaStore) : undefined);

export async function prepareResourceWrite(target: ResourceUrl, method: string, url: string, bytes: ArrayBuffer): Promise<ResourceWrite> {
  const { resource } = target;
  let value: unknown;
  try {
    value = bytes.byteLength ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
  } catch {}
  const body = bytes.byteLength ? bytes : null;
  // A POST to an item URL is an action on it, not a representation: it is
  // ordered with the item's writes (same path), but not overlaid.
  if (target.id !== undefined && method === 'POST') return { url, body, value };
  if (target.id !== undefined) {
    // The app may still hold the local id of an item the server has named since.
    const serverId = resource.spec.ids === 'server' && (await serverIdFor(target.id));
    return serverId ? { url: itemUrl(resource, serverId) + new URL(url).search, itemId: serverId, body, value } : { url, itemId: target.id, body, value };
  }
  if (method !== 'POST' || !isObject(value)) return { url, body, value };
  // A create: its item needs an id now, for its group, the overlay and the answer.
  const given = value[resource.idField];
  if (given != null) return { url, itemId: String(given), body, value };
  const id = crypto.randomUUID();
  if (resource.spec.ids === 'server') return { url, itemId: id, tempId: true, body, value };
  const withId = { ...value, [resource.idField]: id };
  return { url, itemId: id, body: new TextEncoder().encode(JSON.stringify(withId)).buffer as ArrayBuffer, value: withId };
}

/** A strong ETag (a weak one cannot be used in If-Match), or undefined. */
export const strongEtag = (response: Response | undefined): string | undefined => {
  const etag = response?.headers.get('etag');
  return etag && !etag.startsWith('W/') ? etag : undefined;
};

/**
 * Replaces a local id by the server's in a queued body: JSON values equal to
 * it (typed as the server gave it), or its text elsewhere. Undefined when the
 * body does not mention it.
 */
export function rewriteBody(body: ArrayBuffer, localId: string, serverId: unknown): ArrayBuffer | undefined {
  const text = new TextDecoder().decode(body);
  if (!text.includes(localId)) return undefined;
  let out: string;
  try {
    out = JSON.stringify(JSON.parse(text, (_, v: unknown) => (v === localId ? serverId : v)));
  } catch {
    out = text.split(localId).join(String(serverId));
  }
  return new TextEncoder().encode(out).buffer as ArrayBuffer;
}
