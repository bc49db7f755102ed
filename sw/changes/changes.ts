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
 *   (re)connect, on coming back online and after every completed flush,
 *   following `"more": true` pages at once (at most MAX_PAGES per catch-up);
 * - on `{"reset": true, "cursor"}` (the feed no longer knows our cursor, so
 *   it cannot say what changed) refreshes every cached entry of the
 *   resources once, conditionally, then continues from the new cursor;
 * - skips notices that only echo its own writes (see echoes.ts).
 *
 * The cursor and the versions seen are stored only once the notices they
 * cover have been applied: a worker stopped in between asks again.
 */
import { get, set } from 'idb-keyval';
import type { ChangesSpec } from '../manifest/types.js';
import { isObject } from '../shared/json.js';
import { revalidate, revalidateAll, type CacheLookup } from '../resources/revalidate.js';
import { itemUrl, named, type Resource } from '../resources/resources.js';
import { metaStore } from '../store/db.js';
import { getScope } from '../scope.js';
import { isNewer, parseNotice, type Notice } from '../../common/notice.js';
import { currentEpoch, epochSignal, isCurrent } from '../store/epoch.js';
import { createEchoes, type Echoes } from './echoes.js';

/** What the worker keeps of the feed (one meta record): the cursor, and the last version seen per item. */
interface FeedState {
  cursor?: string;
  seen: Record<string, Notice['version']>;
}
const STATE = 'changes';
/** The most item versions remembered; past it the oldest seen go (a notice about one is then refetched conditionally: a 304). */
const MAX_SEEN = 10_000;
/**
 * The most `since` pages one catch-up follows (at 1,000 notices a page, as
 * offline-outbox/server answers). Past them it applies what it has and stores
 * the cursor; the next catch-up (the next flush, reconnect or online) goes on.
 */
const MAX_PAGES = 50;

/** Keeps the versions seen within MAX_SEEN, the most recently recorded last (objects keep string keys in insertion order). */
function bounded(state: FeedState): FeedState {
  const keys = Object.keys(state.seen);
  for (const key of keys.slice(0, Math.max(0, keys.length - MAX_SEEN))) delete state.seen[key];
  return state;
}

/** The manifest's parts the feed needs (read when used: see OutboxManifest). */
export interface ChangesContext {
  readonly resources: readonly Resource[];
  readonly changes?: ChangesSpec;
  readonly cacheOf: CacheLookup;
}

/**
 * `flushing`: whether the outbox has writes waiting or in flight (notices
 * wait for them). `echoes`: the writes' answers the outbox has refreshed after.
 */
export function createChanges(context: ChangesContext, flushing: () => Promise<boolean>, echoes: Echoes = createEchoes()) {
  const held = new Map<string, Notice>();
  let cursor: string | undefined;
  /** Set by a `reset` answer: every cached entry is refreshed with the next apply (after the flush, like notices). */
  let reset = false;
  let state: Promise<FeedState> | undefined;
  const load = () => (state ??= get<FeedState>(STATE, metaStore).then((v) => v ?? { seen: {} }));
  let work: Promise<unknown> = Promise.resolve();
  const find = (name: string) => named(context.resources, name);

  /** Applies what is held: one refetch per cached entry named, whatever the number of notices. */
  async function apply(): Promise<void> {
    if ((!held.size && !reset) || (await flushing())) return;
    const epoch = currentEpoch();
    const batch = [...held.values()];
    const at = cursor;
    const everything = reset;
    held.clear();
    reset = false;
    const stored = await load();
    const { seen } = stored;
    const byResource = new Map<Resource, Notice[]>();
    for (const notice of batch) {
      const key = `${notice.resource} ${notice.id}`;
      if (!isNewer(notice.version, seen[key])) continue;
      if (notice.version !== undefined) {
        delete seen[key];
        seen[key] = notice.version;
      }
      const resource = find(notice.resource);
      if (resource && !everything && !(await echoes.covers(notice))) byResource.set(resource, [...(byResource.get(resource) ?? []), notice]);
    }
    const { caches } = getScope();
    await Promise.all(
      [...byResource].map(async ([resource, notices]) => {
        for (const n of notices) {
          const url = itemUrl(resource, n.id);
          const cache = n.type === 'deleted' && context.cacheOf(url);
          if (cache && isCurrent(epoch)) await (await caches.open(cache.name)).delete(url);
        }
        await revalidate(
          resource,
          notices.filter((n) => n.type !== 'deleted').map((n) => n.id),
          context.cacheOf,
        );
      }),
    );
    // Refreshing everything covers the notices held with it (a deleted item answers 404 and goes).
    if (everything && isCurrent(epoch) && !(await revalidateAll(context.resources, context.cacheOf))) {
      // Some refetches got no answer (offline again): the next apply refreshes everything again, and only then is the new cursor stored.
      reset ||= isCurrent(epoch);
      throw new Error('the network failed while refreshing every cached entry after a reset');
    }
    stored.cursor = at ?? stored.cursor;
    // A log-out while these applied: the old cursor and versions are not written back.
    if (isCurrent(epoch)) await set(STATE, bounded(stored), metaStore);
  }

  /** Holds the notices among `values`; returns how many were not notices (with the first, for the warning). */
  const take = (values: unknown[]): [number, unknown] => {
    let ignored = 0;
    let example: unknown;
    for (const value of values) {
      const notice = parseNotice(value, (name) => !!find(name));
      if (!notice) {
        example = ignored++ ? example : value;
        continue;
      }
      held.set(`${notice.resource} ${notice.id}`, notice);
      cursor = notice.cursor ?? cursor;
    }
    return [ignored, example];
  };

  const queue = (step: () => Promise<unknown>) =>
    (work = work.then(step).catch((error: unknown) => {
      // Aborted by a log-out: nothing to report, nothing to ask again.
      if ((error as { name?: string } | undefined)?.name !== 'AbortError') console.warn('offline-outbox: change notices failed; the next catch-up asks again', error);
    }));

  return {
    /** Takes a batch of notices from the page; returns how many were accepted and how many ignored. */
    receive(values: unknown[]): { accepted: number; ignored: number } {
      const [ignored, example] = take(values);
      if (ignored) console.warn(`offline-outbox: ignored ${ignored} malformed change notice(s), such as`, example);
      void queue(apply);
      return { accepted: values.length - ignored, ignored };
    },
    /** Applies held notices if the outbox has flushed (the scheduler calls it after each run). */
    flushed: () => queue(apply),
    /** Asks `changes.since` for the notices missed since the stored cursor (page after page), and applies them. */
    catchUp: () =>
      queue(async () => {
        const since = context.changes?.since;
        let from = cursor ?? (await load()).cursor;
        // Without a cursor there is nothing to catch up on: the feed starts now.
        if (!since || from === undefined) return;
        for (let page = 0; page < MAX_PAGES; page++) {
          const response = await fetch(since.replace('{cursor}', encodeURIComponent(from)), { cache: 'no-store', credentials: 'same-origin', signal: epochSignal() });
          if (!response.ok) throw new Error(`${since}: HTTP ${response.status}`);
          const body: unknown = await response.json();
          const next = isObject(body) && typeof body.cursor === 'string' && body.cursor ? body.cursor : undefined;
          if (isObject(body) && body.reset === true) {
            if (!next) throw new Error(`${since}: a reset must say where to go on from: {"reset": true, "cursor": "..."}`);
            // What is held is older than the reset: refreshing everything covers it.
            held.clear();
            reset = true;
            cursor = next;
            break;
          }
          const list = Array.isArray(body) ? body : isObject(body) ? body.notices : undefined;
          if (!Array.isArray(list)) throw new Error(`${since}: expected [notices], {"notices": [...], "cursor"} or {"reset": true, "cursor"}`);
          take(list);
          if (next) cursor = next;
          // A page that moved nothing on would only be asked for again.
          if (!(isObject(body) && body.more === true) || cursor === undefined || cursor === from) break;
          from = cursor;
        }
        await apply();
      }),
    /** Resolves once the work queued so far is done (a waking event waits for it). */
    idle: () => work,
    /** Forgets the cursor and the versions (log-out). */
    forget() {
      held.clear();
      echoes.forget();
      reset = false;
      cursor = state = undefined;
    },
  };
}

export type Changes = ReturnType<typeof createChanges>;
