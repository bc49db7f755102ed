/**
 * What a write to a declared resource needs before it is sent or stored: the
 * item it concerns (its ordering group), an id for a create, a server id in
 * place of a local one the server has since replaced, and If-Match from the
 * cached item so that a write made against an old version is caught.
 */
import { get } from 'idb-keyval';
import { isObject } from '../shared/json.js';
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

/** The meta key under which the server's id for a local one is remembered. */
export const LOCAL_ID = (id: string): string => `local-id ${id}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What is remembered of a local id the server replaced: the server's id, and when. */
export interface ServerIdRecord {
  id: string;
  at: number;
}

/** The server's id for a local one it has replaced, if any (only UUIDs are looked up). */
export async function serverIdFor(id: string): Promise<string | undefined> {
  if (!UUID.test(id)) return undefined;
  const record = await get<ServerIdRecord | string>(LOCAL_ID(id), metaStore);
  return typeof record === 'string' ? record : record?.id;
}

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

/** Where `needle` starts in `haystack`, from `from`; -1 when it is not there. */
function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** `bytes` with every `from` replaced by `to`, byte for byte; undefined when there is none. */
function replaceBytes(bytes: Uint8Array, from: Uint8Array, to: Uint8Array): ArrayBuffer | undefined {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let i = indexOf(bytes, from, 0); i >= 0; i = indexOf(bytes, from, at)) {
    parts.push(bytes.subarray(at, i), to);
    at = i + from.length;
  }
  if (!parts.length) return undefined;
  parts.push(bytes.subarray(at));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out.buffer;
}

/**
 * Replaces a local id by the server's in a queued body, and nothing else:
 * in JSON, each string value that is exactly the local id becomes the
 * server's id as the server typed it (`"5f…"` → `42`); in a form-urlencoded
 * body, the id's text. The rest of the bytes stay as they were: numbers are
 * not re-serialised (a large integer keeps its digits), and a body of any
 * other type (binary, multipart, text) is never touched. A local id is a
 * UUID, ASCII, so a byte-level match cannot fall inside a multi-byte
 * character. Undefined when the body does not change.
 */
export function rewriteBody(body: ArrayBuffer, localId: string, serverId: unknown, contentType: string | null): ArrayBuffer | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const encode = (text: string) => new TextEncoder().encode(text);
  const bytes = new Uint8Array(body);
  if (type === 'application/json' || type.endsWith('+json')) return replaceBytes(bytes, encode(JSON.stringify(localId)), encode(JSON.stringify(serverId)));
  if (type === 'application/x-www-form-urlencoded') return replaceBytes(bytes, encode(localId), encode(encodeURIComponent(String(serverId))));
  return undefined;
}
