/**
 * What replaying a declared resource's writes adds to sending them:
 *
 * - ids: a create the server names (`ids: "server"`) has its local id
 *   replaced by the server's in every later queued write, atomically with
 *   its removal, and remembered for requests that still use the local one;
 * - If-Match along a chain of writes to one item (each after the first is
 *   made against the version the one before it produced);
 * - conflicts, settled by the route's policy;
 * - once an item's writes are all delivered, its cached item and collection
 *   entries are revalidated, once; the answers' X-Change-Cursor then name
 *   notices that only echo these writes (see changes/echoes.ts).
 */
import { isObject, parseJson } from '../shared/json.js';
import { revalidate, type CacheLookup } from '../resources/revalidate.js';
import { itemUrl, named, resourceUrl, type Resource } from '../resources/resources.js';
import { tellScope } from '../shared/broadcast.js';
import { CONFLICT_POLICIES } from './conflict-policies.js';
import { isLive, type OutboxEntry } from './entry.js';
import type { ReplayContext } from './replay.js';
import { LOCAL_ID, rewriteBody, strongEtag } from './resource-write.js';
import { chainEtag, readBody, saveEntry, settleCreate } from './store.js';
import { epochSignal } from '../store/epoch.js';
import { createEchoes, type Echoes } from '../changes/echoes.js';

/** The header a server's write answer names the change feed's cursor of its notice in. */
export const CHANGE_CURSOR = 'x-change-cursor';

/** The id the server gave a created item: the body's id field, else the `Location` header's item URL. */
async function serverIdOf(response: Response, entry: OutboxEntry, resource: Resource): Promise<unknown> {
  try {
    const body: unknown = await response.clone().json();
    if (isObject(body) && body[resource.idField] != null) return body[resource.idField];
  } catch {}
  const location = response.headers.get('location');
  return location ? resourceUrl([resource], new URL(location, entry.url))?.id : undefined;
}

export function createResourceReplay(manifest: { readonly resources: readonly Resource[]; readonly cacheOf: CacheLookup }, echoes: Echoes = createEchoes()) {
  const etags = new Map<string, string>();
  /** Items with delivered (or dropped) writes, per resource, waiting for their group to empty. */
  const touched = new Map<string, Set<string>>();
  const find = (name?: string) => named(manifest.resources, name);
  /** Marks an item for revalidation once its writes have left the outbox; `cursor`: the X-Change-Cursor of the write that touched it. */
  const touch = (entry: { resource?: string; itemId?: string }, cursor?: string | null) => {
    if (!entry.resource || entry.itemId === undefined) return;
    const ids = touched.get(entry.resource) ?? new Set();
    touched.set(entry.resource, ids.add(entry.itemId));
    echoes.answered(entry.resource, entry.itemId, cursor);
  };

  const context: ReplayContext = {
    etags,
    async delivered(entry, response) {
      const resource = find(entry.resource);
      if (!resource) return false;
      const etag = strongEtag(response);
      let renamed = false;
      if (entry.tempId) {
        const serverId = await serverIdOf(response, entry, resource);
        if (serverId != null) {
          const localId = entry.itemId!;
          const id = String(serverId);
          const contentType = (e: OutboxEntry) => e.headers.find(([n]) => n === 'content-type')?.[1] ?? null;
          await settleCreate(entry, localId, id, (body, e) => rewriteBody(body, localId, serverId, contentType(e)), [LOCAL_ID(localId), { id, at: Date.now() }]);
          entry = { ...entry, itemId: id, group: entry.group.split(encodeURIComponent(localId)).join(encodeURIComponent(id)) };
          renamed = true;
        }
      }
      const key = `${entry.resource} ${entry.itemId}`;
      if (etag) etags.set(key, etag);
      else etags.delete(key);
      if (etag) await chainEtag(entry, etag).catch(() => {});
      touch(entry, response.headers.get(CHANGE_CURSOR));
      return renamed;
    },

    async conflict(entry, body, status) {
      const { server, serverEtag } = await serverVersion(entry);
      const local = parseJson(body) ?? null;
      return CONFLICT_POLICIES[entry.policy.onConflict ?? 'manual']({ entry, status, local, server, serverEtag, touch });
    },
  };

  /** The server's current version of the entry's item (fetched fresh), and its ETag. */
  async function serverVersion(entry: OutboxEntry): Promise<{ server: unknown; serverEtag?: string }> {
    const resource = find(entry.resource);
    let server: unknown = null;
    let serverEtag: string | undefined;
    if (resource && entry.itemId !== undefined) {
      try {
        const current = await fetch(itemUrl(resource, entry.itemId), {
          credentials: entry.credentials,
          cache: 'no-store',
          headers: { accept: 'application/json' },
          signal: epochSignal(),
        });
        serverEtag = strongEtag(current);
        if (current.ok) server = await current.json();
      } catch {}
    }
    return { server, serverEtag };
  }

  return {
    context,
    touch,
    /** Parks a write as a conflict a person settles (`why`: its lastError), with both versions. */
    async park(entry: OutboxEntry, why: string): Promise<void> {
      const [{ server, serverEtag }, body] = await Promise.all([serverVersion(entry), readBody(entry.seq!)]);
      const local = parseJson(body) ?? null;
      await saveEntry({ ...entry, state: 'conflict', server, local, serverEtag, overtaken: undefined, lastError: `conflict: ${why}` });
      tellScope('conflict', { id: entry.id, status: entry.lastStatus ?? 0, resolution: 'parked', local, server });
    },
    forget() {
      etags.clear();
      touched.clear();
    },
    /**
     * Revalidates, once, the items whose writes have all left the outbox (and
     * their collections); `entries` is what the outbox holds now.
     */
    async revalidateSettled(entries: OutboxEntry[]): Promise<void> {
      const busy = new Set(entries.filter(isLive).map((e) => `${e.resource} ${e.itemId}`));
      const work: Promise<unknown>[] = [];
      for (const [name, ids] of touched) {
        const resource = find(name);
        const settled = [...ids].filter((id) => !busy.has(`${name} ${id}`));
        if (!resource || !settled.length) continue;
        for (const id of settled) {
          ids.delete(id);
          etags.delete(`${name} ${id}`);
        }
        if (!ids.size) touched.delete(name);
        const refreshed = revalidate(resource, settled, manifest.cacheOf);
        // Registered before this returns: the outbox applies held notices right after (see outbox.ts).
        echoes.refreshing(name, settled, refreshed);
        work.push(refreshed);
      }
      await Promise.all(work);
    },
  };
}
