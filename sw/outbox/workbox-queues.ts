/**
 * Moving a workbox-background-sync queue into the outbox, for apps that
 * switch from Workbox's BackgroundSyncPlugin (the manifest's
 * `"workboxQueues"`), through workbox-background-sync's own `Queue` API.
 *
 * Order: oldest first by Workbox's timestamp (when the write was queued),
 * not by its place in Workbox's queue. Workbox's own replay takes an entry
 * out before sending it and puts it back on failure, and the put-back reads
 * the first id and then adds, not atomically: a write the page queued in
 * between (a sync fires while the page still writes) lands *before* the one
 * put back. Its queue then says [2, 1, 3, …]; the timestamps still say 1, 2, 3.
 *
 * Safety: every write is committed to the outbox (stamped with a key,
 * strictly) before any is removed from Workbox's queue, so a worker stopped
 * half-way loses nothing. `shiftRequest` can only remove the head, so the
 * writes are committed in timestamp order first, and then removed from the
 * head, each only once it is committed. Stopped in between, the next
 * activation must not queue a write twice, and two identical writes (same
 * URL, body and millisecond) must still be two: before committing, a marker
 * records the queue's size and the key each write gets, by its place in the
 * queue. Removals only ever take the head, so what is left after a stop is
 * the tail of what the marker describes, and each write keeps its key (one
 * already in the outbox is not committed again).
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
  /** The key of each write, by its place in Workbox's queue then. */
  keys?: string[];
  /** The one key of a marker from before 0.1's ordered move (the head's, while its size held). */
  key?: string;
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

/** The key of each entry (by place), continuing an interrupted move when `marker` describes one. */
function keysOf(entries: readonly { request: Request }[], marker: MoveMarker | undefined): string[] {
  if (marker?.keys && entries.length <= marker.size && marker.keys.length === marker.size) return marker.keys.slice(marker.size - entries.length);
  const fresh = entries.map(({ request }) => request.headers.get('idempotency-key')?.replace(/^"|"$/g, '') ?? crypto.randomUUID());
  if (marker?.key !== undefined && marker.size === entries.length) fresh[0] = marker.key;
  return fresh;
}

/** Moves every entry of Workbox queue `name` into the outbox; returns how many it committed. */
export async function migrateWorkboxQueue(name: string, adopter: Adopter): Promise<number> {
  let queue = opened.get(name);
  // onSync: Workbox's own replay (which deletes an entry before sending it) must never run here.
  if (!queue) opened.set(name, (queue = new Queue(name, { onSync: async () => {}, maxRetentionTime: KEEP_FOREVER_MINUTES })));
  const entries = await queue.getAll();
  if (!entries.length) return 0;
  const known = new Set((await listEntries()).map((e) => e.key));
  const keys = keysOf(entries, await get<MoveMarker>(markerKey(name), metaStore));
  // Described as the queue is now: what a stop leaves is again the tail of this.
  await set(markerKey(name), { size: entries.length, keys } satisfies MoveMarker, metaStore);

  let committed = 0;
  const byAge = entries.map((_, i) => i).sort((a, b) => (entries[a]!.timestamp ?? 0) - (entries[b]!.timestamp ?? 0));
  for (const i of byAge) {
    const { request, timestamp = Date.now() } = entries[i]!;
    const key = keys[i]!;
    if (known.has(key)) continue;
    const answer = await adopter.adopt(request.clone(), adopter.routeOf(request), { key, createdAt: timestamp, reason: `moved from the workbox-background-sync queue "${name}"` });
    // Not committed (storage full, body over the limit): it stays in Workbox's queue, and so do the newer ones (their order).
    if (answer.status !== 202) {
      console.error(`offline-outbox: could not move a write from the Workbox queue "${name}" (HTTP ${answer.status}); it stays there`, await answer.text().catch(() => ''));
      break;
    }
    known.add(key);
    committed++;
  }
  // Removed from the head, each only once it is in the outbox.
  let removed = 0;
  while (removed < entries.length && known.has(keys[removed]!)) {
    await queue.shiftRequest();
    removed++;
  }
  if (removed === entries.length) await del(markerKey(name), metaStore);
  return committed;
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
