/**
 * The outbox as the worker uses it: the write handler, the replay triggers
 * and the page's requests (status, entries, sync now, retry, discard).
 */
import { get } from 'idb-keyval';
import type { EntrySummary, OutboxRequest, OutboxStatus, Resolution } from '../../common/messages.js';
import type { RouteSpec } from '../manifest/types.js';
import { createChanges } from '../changes/changes.js';
import type { ChangesSpec } from '../manifest/types.js';
import type { CacheLookup } from '../resources/revalidate.js';
import { resourceUrl, type Resource } from '../resources/resources.js';
import { getScope } from '../scope.js';
import { metaStore } from '../store/db.js';
import { broadcast } from '../shared/broadcast.js';
import { rekeyed, toSummary } from './entry.js';
import { handleWrite, type AdoptedWrite } from './intercept.js';
import { createScheduler, report } from './scheduler.js';
import { createResourceReplay } from './resource-replay.js';
import { clearOutbox, countByState, findEntry, groupIsBusy, pruneLocalIds, listEntries, oldestCreatedAt, refreshBusy, removeEntry, resumeAuth, saveEntry, saveWithBody } from './store.js';
import { forgetCredentials, noteCredentials } from './credentials.js';
import { BACKOFF_BASE_MS } from './outcome.js';
import { endEpoch } from '../store/epoch.js';

/** An error with a stable code, as data that crosses postMessage. */
const coded = (code: string, message: string) => Object.assign(new Error(message), { code });

const HOUR_MS = 60 * 60 * 1000;
/** How long the server's id for a local one is remembered for pages still using the local one. */
const LOCAL_ID_MAX_AGE_MS = 24 * HOUR_MS;
let prunedAt = 0;

/** The Background Sync tag: Chromium fires it when connectivity returns. */
export const SYNC_TAG = 'offline-outbox';

export interface OutboxOptions {
  /** Groups replayed at once; 1 means one global order. @default 6 */
  concurrency?: number;
}

/**
 * What the outbox needs from the manifest. The fields change when a manifest
 * is read (a restarted worker learns it late): read them when used.
 */
export interface OutboxManifest {
  resources: readonly Resource[];
  changes?: ChangesSpec;
  cacheOf: CacheLookup;
  /** Deletes this worker's caches (log-out). */
  clearCaches(): Promise<void>;
}

export function createOutbox(options: OutboxOptions, manifest: OutboxManifest) {
  const scope = getScope();
  const resources = createResourceReplay(manifest);
  const revalidate = () => listEntries().then(resources.revalidateSettled).catch(report);
  // One registration covers any number of queued writes: ask the browser
  // again only after a sync event or a pass has run.
  let syncRequested = false;
  const requestSync = async () => {
    if (syncRequested) return;
    syncRequested = true;
    await scope.registration.sync?.register(SYNC_TAG).catch(() => (syncRequested = false));
  };
  const changes = createChanges(manifest, async () => {
    const { pending, inflight } = await countByState();
    return pending + inflight > 0;
  });
  const scheduler = createScheduler(resources.context, options.concurrency, (all, delivered) => {
    void status().then((s) => broadcast('status', s), () => {});
    void resources.revalidateSettled(all).catch(report);
    if (scheduler.hasWork) return;
    // Flushed: the local ids the server replaced long ago are forgotten (at most hourly).
    if (Date.now() - prunedAt > HOUR_MS) {
      prunedAt = Date.now();
      void pruneLocalIds(LOCAL_ID_MAX_AGE_MS).catch(report);
    }
    // Flushed: notices held back apply now, then (upload first, download
    // second) what the feed missed meanwhile.
    void changes.flushed();
    if (delivered) void changes.catchUp();
  });
  /** Explicit triggers (the page, Background Sync, a network success) are urgent: see Scheduler.syncNow. */
  const syncNow = () => scheduler.syncNow(true);
  let lastHint = 0;

  async function status(): Promise<OutboxStatus> {
    const [counts, lastSyncAt, oldestPendingAt] = await Promise.all([countByState(), get<number>('lastSyncAt', metaStore), oldestCreatedAt()]);
    return {
      pending: counts.pending,
      inFlight: counts.inflight,
      conflicts: counts.conflict,
      auth: counts.auth,
      dead: counts.dead,
      online: (scope as unknown as { navigator: Navigator }).navigator.onLine,
      lastSyncAt: lastSyncAt ?? null,
      oldestPendingAt,
    };
  }

  /**
   * Sends a parked, dead or waiting entry again now, from its first attempt.
   * A dead write that newer writes of its group went past would land on top
   * of them, out of order: it becomes a conflict instead, showing both
   * versions, and a person decides (resolve() then sends it as they say).
   */
  async function retry(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    const entry = await findEntry(id);
    if (!entry || entry.state === 'inflight') return false;
    if (entry.overtaken) {
      await resources.park(entry, 'newer writes to it were delivered after this one failed; retried, it would undo them');
      return true;
    }
    await saveEntry({ ...entry, state: 'pending', attempts: 0, nextAttemptAt: Date.now(), overtaken: undefined });
    syncNow().catch(report);
    return true;
  }

  async function discard(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    const entry = await findEntry(id);
    if (!entry) return false;
    await removeEntry(entry.seq!);
    const all = await listEntries();
    await refreshBusy(all);
    broadcast('status', await status());
    // The overlay no longer shows it: the cache should hold the server's version.
    resources.touch(entry);
    await resources.revalidateSettled(all);
    return true;
  }

  /** Settles a conflicted (or any waiting) write: see Resolution. */
  async function resolve({ id, action, body }: { id: string } & Resolution): Promise<boolean> {
    if (action === 'discard') return discard(id);
    if (action === 'retry') return retry(id);
    if (action !== 'replace') throw coded('bad-resolution', `unknown action ${typeof action === 'string' ? JSON.stringify(action) : typeof action}; use "retry", "discard" or "replace"`);
    const entry = typeof id === 'string' ? await findEntry(id) : undefined;
    if (!entry || entry.state === 'inflight') return false;
    const bytes = body === undefined ? null : (new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)).buffer as ArrayBuffer);
    // A new payload is a new request, made against the server's version seen at the conflict.
    const precondition = entry.headers.some(([n]) => n === 'if-match') || entry.chained;
    const next = rekeyed(entry, ['if-match'], precondition ? entry.serverEtag : undefined);
    await saveWithBody({ ...entry, ...next, bodyBytes: bytes?.byteLength ?? 0, state: 'pending', attempts: 0, nextAttemptAt: Date.now(), forced: undefined }, bytes);
    syncNow().catch(report);
    return true;
  }

  /**
   * Log-out: nothing queued, overlaid, cached or remembered is left. What is
   * in flight is aborted and the running pass waited for; a write-back that
   * began before (a replay's outcome, a live write falling back to the
   * outbox, a revalidation, the feed's cursor) finds its epoch over and
   * writes nothing (see epoch.ts).
   */
  async function clear(): Promise<boolean> {
    endEpoch();
    forgetCredentials();
    await scheduler.idle().catch(() => {});
    await clearOutbox();
    await refreshBusy();
    resources.forget();
    changes.forget();
    await manifest.clearCaches();
    broadcast('status', await status());
    return true;
  }

  const operations = {
    status,
    entries: async (): Promise<EntrySummary[]> => (await listEntries()).map(toSummary),
    // The page asks on coming online and on becoming visible: then also catch up on the feed.
    'sync-now': async () => (await syncNow(), void changes.catchUp(), status()),
    notices: ({ notices }: { notices: unknown[] }) => changes.receive(Array.isArray(notices) ? notices : []),
    'catch-up': async () => (await changes.catchUp(), true),
    clear,
    retry: ({ id }: { id: string }) => retry(id),
    discard: ({ id }: { id: string }) => discard(id),
    resolve,
  };

  return {
    syncNow,
    /**
     * Resolves when the notices received so far are applied and the passes
     * started are over: an event that started work waits for it, or a
     * browser may stop the idle worker half-way.
     */
    idle: () => Promise.all([changes.idle(), scheduler.idle()]).then(() => {}),
    /** A worker instance's first event: look for leftovers, respecting their backoff. */
    wake: () => scheduler.syncNow(),
    status,
    /** Runs a page's request; unknown operations are refused as data, never thrown across postMessage. */
    async answer(request: OutboxRequest): Promise<unknown> {
      // Own names only: `constructor`, `__proto__` or `['clear']` are not operations.
      const op: unknown = request.op;
      const operation = typeof op === 'string' && Object.hasOwn(operations, op) ? (operations[op as keyof typeof operations] as (args: unknown) => Promise<unknown>) : undefined;
      if (!operation) throw coded('unknown-operation', `unknown operation ${typeof op === 'string' ? JSON.stringify(op) : typeof op}`);
      return operation(request.args);
    },
    /** A request a route matched: credentials it carries may free writes waiting for them. */
    noteRequest(request: Request, event: ExtendableEvent) {
      if (noteCredentials(request)) event.waitUntil(resumeAuth(Date.now()).then((n) => (n ? syncNow() : undefined)).catch(report));
    },
    /** A write a route matched (`send`: how a live one goes out); `adopted`: one moved in from another queue, never sent live. */
    handleWrite: (request: Request, spec: RouteSpec, clientId: string, send: (request: Request) => Promise<Response>, adopted?: AdoptedWrite) =>
      handleWrite(
        request,
        spec,
        {
        clientId,
        send,
        async drained(group, ms) {
          const end = Date.now() + ms;
          while (await groupIsBusy(group)) {
            if (Date.now() > end) return false;
            await syncNow();
            if (scheduler.quiet) return false;
            if (await groupIsBusy(group)) await new Promise((r) => setTimeout(r, 50));
          }
          return true;
        },
        fallbackUrl: scope.registration.scope,
        resourceOf: (url, only) => resourceUrl(manifest.resources, url, only),
        async cached(url) {
          const at = manifest.cacheOf(url);
          return at && (await scope.caches.open(at.name)).match(url);
        },
        onQueued: (entry) => {
          void requestSync();
          scheduler.later(entry.nextAttemptAt - Date.now());
        },
        onNetworkSuccess: async (item) => {
          // A write that went straight through changed the item: its cached
          // copies (and their ETags) are refreshed, as after a replay.
          if (item) {
            resources.touch({ resource: item.resource.name, itemId: item.id });
            void revalidate();
          }
          // The app's own write just went through with its credentials: writes
          // parked for auth (401/403) may work again.
          if ((await resumeAuth(Date.now()).catch(() => 0)) || scheduler.hasWork) syncNow().catch(report);
        },
      },
        adopted,
      ),
    /**
     * A successful network response anywhere is a hint that queued writes
     * may go now: those that failed for want of a network, at most once per
     * backoff floor (an app polling every 100 ms must not resend them 10
     * times a second; writes the server refused keep their backoff).
     */
    onNetworkSuccess(event: ExtendableEvent) {
      const now = Date.now();
      if (!scheduler.hasWork || now - lastHint < BACKOFF_BASE_MS) return;
      lastHint = now;
      event.waitUntil(syncNow());
    },
    async onSync(event: SyncEvent): Promise<void> {
      syncRequested = false;
      // The browser fires this when it thinks it is online, not when our
      // server answers: right after a pass found the network unreachable,
      // waiting writes keep their backoff.
      await scheduler.syncNow(!scheduler.quiet);
      const left = await status();
      if (left.pending + left.inFlight === 0) return;
      // While the browser has retries left, fail this sync so it schedules one
      // (with its own backoff). On the last chance, register anew, unless the
      // server is unreachable now (that would only spin); the next queued
      // write, the page and the worker's timer carry on.
      if (!event.lastChance) throw new Error(`offline-outbox: ${left.pending} writes still waiting`);
      if (!scheduler.quiet) await requestSync();
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
