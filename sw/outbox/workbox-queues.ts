/**
 * Moving a workbox-background-sync queue into the outbox, for apps that
 * switch from Workbox's BackgroundSyncPlugin (the manifest's
 * `"workboxQueues"`). Read through workbox-background-sync's own `Queue`
 * API, oldest first; each write is committed to the outbox (stamped with a
 * key, strictly) before it is removed from Workbox's queue, so a worker
 * stopped half-way loses nothing.
 *
 * Stopped between the commit and the removal, the next activation must not
 * queue that write twice, and two identical writes (same URL, body and
 * millisecond) must still be two. So before each move a marker records
 * the key it will use and the size of Workbox's queue at that moment: if
 * the queue still has that size on the next activation, the move was
 * interrupted before the removal, and the write is committed (if it is not
 * in the outbox already) under the same key, so a server that honours keys
 * applies it once even if it was delivered meanwhile.
 */
import { del, get, set } from 'idb-keyval';
import { Queue } from 'workbox-background-sync';
import type { RouteSpec } from '../manifest/types.js';
import { metaStore } from '../store/db.js';
import type { Outbox } from './outbox.js';
import { listEntries } from './store.js';

/** Never let Workbox's own expiry (7 days by default) drop an entry while we read it. */
const KEEP_FOREVER_MINUTES = Number.MAX_SAFE_INTEGER;

interface MoveMarker {
  /** Workbox's queue size when the move began. */
  size: number;
  key: string;
}
const markerKey = (queue: string) => `workbox-queue-move:${queue}`;

export interface Adopter {
  /** The manifest route a write belongs to (a plain write with default options when none does). */
  routeOf(request: Request): RouteSpec;
  /** Commits the write to the outbox; resolves with the answer a page would get (202 once committed). */
  adopt(request: Request, route: RouteSpec, write: { key: string; createdAt: number; reason: string }): Promise<Response>;
}

/** Queues already opened by this instance: Workbox refuses a second `Queue` of one name. */
const opened = new Map<string, Queue>();

/** Moves every entry of Workbox queue `name` into the outbox; returns how many moved. */
export async function migrateWorkboxQueue(name: string, adopter: Adopter): Promise<number> {
  let queue = opened.get(name);
  // onSync: Workbox's own replay (which deletes an entry before sending it) must never run here.
  if (!queue) opened.set(name, (queue = new Queue(name, { onSync: async () => {}, maxRetentionTime: KEEP_FOREVER_MINUTES })));
  const entries = await queue.getAll();
  if (!entries.length) return 0;
  const known = new Set((await listEntries()).map((e) => e.key));
  let marker = await get<MoveMarker>(markerKey(name), metaStore);
  let size = await queue.size();
  let moved = 0;
  for (const { request, timestamp = Date.now() } of entries) {
    const own = request.headers.get('idempotency-key')?.replace(/^"|"$/g, '');
    let key = own ?? crypto.randomUUID();
    if (marker?.size === size) key = marker.key;
    else await set(markerKey(name), (marker = { size, key }), metaStore);
    if (!known.has(key)) {
      const answer = await adopter.adopt(request.clone(), adopter.routeOf(request), {
        key,
        createdAt: timestamp,
        reason: `moved from the workbox-background-sync queue "${name}"`,
      });
      // Not committed (storage full, body over the limit): it stays in Workbox's queue, and so do those after it (their order).
      if (answer.status !== 202) {
        console.error(`offline-outbox: could not move a write from the Workbox queue "${name}" (HTTP ${answer.status}); it stays there`, await answer.text().catch(() => ''));
        return moved;
      }
      known.add(key);
    }
    await queue.shiftRequest();
    size--;
    moved++;
  }
  await del(markerKey(name), metaStore);
  return moved;
}

/**
 * The manifest's `workboxQueues`, moved into the outbox at activation, each
 * write under the manifest route it matches (a plain write with default
 * options when none does). A failure is logged; what was not moved stays in
 * Workbox's queue and is tried again at the next activation.
 */
export async function moveWorkboxQueues(names: readonly string[], outbox: Outbox, routeOf: (request: Request) => RouteSpec | undefined): Promise<void> {
  const adopter: Adopter = {
    routeOf: (request) => routeOf(request) ?? { match: new URL(request.url).pathname },
    adopt: (request, route, write) => outbox.handleWrite(request, route, '', fetch, write),
  };
  let moved = 0;
  for (const name of names) {
    try {
      moved += await migrateWorkboxQueue(name, adopter);
    } catch (error) {
      console.error(`offline-outbox: moving the Workbox queue "${name}" failed; what was not moved stays in it`, error);
    }
  }
  if (moved) await outbox.syncNow().catch(() => {});
}
