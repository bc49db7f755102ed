/**
 * Change notices and targeted revalidation. The page holds the connection to
 * the server's feed and forwards notices; the worker:
 *
 * - checks each (a malformed one is ignored, with one warning per batch);
 * - coalesces them per item (a burst of 10,000 about a few items costs a few
 *   refetches), and skips one whose version is not newer than the item's
 *   last seen;
 * - while the outbox has writes waiting or in flight, holds them, and applies
 *   them once it has flushed (backlog first: the server then already has our
 *   writes, and the overlay shows any still waiting);
 * - refetches only the cache entries a notice names (its item, and every
 *   cached variant of its collection), conditionally; drops a deleted item;
 * - keeps the feed's cursor, and asks `changes.since` for what it missed on
 *   (re)connect, on coming back online and after every completed flush.
 *
 * The cursor and the versions seen are stored only once the notices they
 * cover have been applied: a worker stopped in between asks again.
 */
import { get, setMany } from 'idb-keyval';
import type { ChangesSpec } from '../manifest/types.js';
import { revalidate, type CacheLookup } from '../resources/revalidate.js';
import { itemUrl, type Resource } from '../resources/resources.js';
import { metaStore } from '../store/db.js';
import { getScope } from '../scope.js';
import { isNewer, parseNotice, type Notice } from './notice.js';

const CURSOR = 'changes-cursor';
const VERSIONS = 'changes-versions';

export interface ChangesContext {
  resources(): readonly Resource[];
  changes(): ChangesSpec | undefined;
  cacheOf: CacheLookup;
  /** Whether the outbox has writes waiting or in flight (notices wait for them). */
  flushing(): Promise<boolean>;
}

export function createChanges(context: ChangesContext) {
  const held = new Map<string, Notice>();
  let cursor: string | undefined;
  let versions: Promise<Record<string, Notice['version']>> | undefined;
  let work: Promise<unknown> = Promise.resolve();
  const find = (name: string) => context.resources().find((r) => r.name === name);

  /** Applies what is held: one refetch per cached entry named, whatever the number of notices. */
  async function apply(): Promise<void> {
    if (!held.size || (await context.flushing())) return;
    const batch = [...held.values()];
    const at = cursor;
    held.clear();
    const seen = await (versions ??= get<Record<string, Notice['version']>>(VERSIONS, metaStore).then((v) => v ?? {}));
    const byResource = new Map<Resource, Notice[]>();
    for (const notice of batch) {
      const key = `${notice.resource} ${notice.id}`;
      if (!isNewer(notice.version, seen[key])) continue;
      if (notice.version !== undefined) seen[key] = notice.version;
      const resource = find(notice.resource);
      if (resource) byResource.set(resource, [...(byResource.get(resource) ?? []), notice]);
    }
    const { caches } = getScope();
    await Promise.all(
      [...byResource].map(async ([resource, notices]) => {
        for (const n of notices) {
          const url = itemUrl(resource, n.id);
          const cache = n.type === 'deleted' && context.cacheOf(url);
          if (cache) await (await caches.open(cache.name)).delete(url);
        }
        await revalidate(resource, notices.filter((n) => n.type !== 'deleted').map((n) => n.id), true, context.cacheOf);
      }),
    );
    await setMany([[VERSIONS, seen], ...(at === undefined ? [] : [[CURSOR, at] as [string, string]])], metaStore);
  }

  const queue = (step: () => Promise<unknown>) => (work = work.then(step).catch((error: unknown) => console.warn('offline-outbox: applying change notices failed; the next catch-up asks again', error)));

  return {
    /** Takes a batch of notices from the page; returns how many were accepted and how many ignored. */
    receive(values: unknown[]): { accepted: number; ignored: number } {
      let ignored = 0;
      let example: unknown;
      for (const value of values) {
        const notice = parseNotice(value, (name) => !!find(name));
        if (!notice) {
          ignored++;
          example ??= value;
          continue;
        }
        held.set(`${notice.resource} ${notice.id}`, notice);
        if (notice.cursor !== undefined) cursor = notice.cursor;
      }
      if (ignored)
        console.warn(
          `offline-outbox: ignored ${ignored} malformed change notice(s); a notice is {"resource": <a key of resources>, "id", "type": "created" | "updated" | "deleted", "version"?, "cursor"?}. First one:`,
          example,
        );
      void queue(apply);
      return { accepted: values.length - ignored, ignored };
    },
    /** Applies held notices if the outbox has flushed (the scheduler calls it after each run). */
    flushed: () => queue(apply),
    /** Asks `changes.since` for the notices missed since the stored cursor, and applies them. */
    catchUp: () =>
      queue(async () => {
        const since = context.changes()?.since;
        const from = cursor ?? (await get<string>(CURSOR, metaStore));
        // Without a cursor there is nothing to catch up on: the feed starts now.
        if (!since || from === undefined) return;
        const response = await fetch(since.replace('{cursor}', encodeURIComponent(from)), { cache: 'no-store', credentials: 'same-origin' });
        if (!response.ok) throw new Error(`${since}: HTTP ${response.status}`);
        const body: unknown = await response.json();
        const list = Array.isArray(body) ? body : (body as { notices?: unknown }).notices;
        if (!Array.isArray(list)) throw new Error(`${since}: expected an array of notices, or {"notices": [...], "cursor": "..."}`);
        for (const value of list) {
          const notice = parseNotice(value, (name) => !!find(name));
          if (notice) held.set(`${notice.resource} ${notice.id}`, notice);
          if (notice?.cursor !== undefined) cursor = notice.cursor;
        }
        const next = (body as { cursor?: unknown }).cursor;
        if (typeof next === 'string' && next) cursor = next;
        await apply();
      }),
    /** Resolves once the work queued so far is done (a waking event waits for it). */
    idle: () => work,
    /** Forgets the cursor and the versions (log-out). */
    forget() {
      held.clear();
      cursor = undefined;
      versions = undefined;
    },
  };
}

export type Changes = ReturnType<typeof createChanges>;
