/**
 * Moving a workbox-background-sync queue into the outbox, for apps that
 * switch from Workbox's BackgroundSyncPlugin (the manifest's
 * `"workboxQueues"`). Read through workbox-background-sync's own `Queue`
 * API, oldest first; each write is committed to the outbox (stamped with a
 * key, strictly) before it is removed from Workbox's queue, so a worker
 * stopped half-way loses nothing. Its key is derived from the Workbox entry,
 * so a write committed just before such a stop is recognised on the next
 * activation and not queued twice.
 */
import { Queue } from 'workbox-background-sync';
import type { RouteSpec } from '../manifest/types.js';
import { listEntries } from './store.js';

/** Never let Workbox's own expiry (7 days by default) drop an entry while we read it. */
const KEEP_FOREVER_MINUTES = Number.MAX_SAFE_INTEGER;

/** A UUID-shaped key from the entry's identity: the same entry always gets the same key. */
async function keyOf(queue: string, timestamp: number, request: Request): Promise<string> {
  const body = new Uint8Array(await request.clone().arrayBuffer());
  const head = new TextEncoder().encode(`${queue}\n${timestamp}\n${request.method} ${request.url}\n`);
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array([...head, ...body])));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

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
  let moved = 0;
  for (const { request, timestamp = Date.now() } of entries) {
    const own = request.headers.get('idempotency-key')?.replace(/^"|"$/g, '');
    const key = own ?? (await keyOf(name, timestamp, request));
    if (!known.has(key)) {
      const answer = await adopter.adopt(request.clone(), adopter.routeOf(request), { key, createdAt: timestamp, reason: `moved from the workbox-background-sync queue "${name}"` });
      // Not committed (storage full, body over the limit): it stays in Workbox's queue, and so do those after it (their order).
      if (answer.status !== 202) {
        console.error(`offline-outbox: could not move a write from the Workbox queue "${name}" (HTTP ${answer.status}); it stays there`, await answer.text().catch(() => ''));
        break;
      }
    }
    const removed = await queue.shiftRequest();
    // Someone else changed Workbox's queue meanwhile: put back what is not ours and stop.
    if (removed && removed.timestamp !== timestamp) {
      await queue.unshiftRequest(removed);
      break;
    }
    moved++;
  }
  return moved;
}
