/**
 * The outbox as the worker uses it: the write handler, the replay triggers
 * (Background Sync, the scheduler, hints) and the page's operations
 * (operations.ts), over one scheduler and one change feed.
 */
import type { RouteSpec } from '../manifest/types.js';
import { createChanges } from '../changes/changes.js';
import { createEchoes } from '../changes/echoes.js';
import type { ChangesSpec } from '../manifest/types.js';
import type { CacheLookup } from '../resources/revalidate.js';
import { resourceUrl, type Resource } from '../resources/resources.js';
import { getScope } from '../scope.js';
import { broadcast } from '../shared/broadcast.js';
import { handleWrite, type AdoptedWrite } from './intercept.js';
import { createOperations } from './operations.js';
import { createScheduler, report } from './scheduler.js';
import { CHANGE_CURSOR, createResourceReplay } from './resource-replay.js';
import { countByState, groupIsBusy, pruneLocalIds, listEntries, resumeAuth } from './store.js';
import { noteCredentials } from './credentials.js';
import { BACKOFF_BASE_MS } from './outcome.js';

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
  // What the outbox learns from its writes' answers, for the feed to skip the notices that echo them.
  const echoes = createEchoes();
  const resources = createResourceReplay(manifest, echoes);
  const revalidate = () => listEntries().then(resources.revalidateSettled).catch(report);
  // One registration covers any number of queued writes: ask the browser
  // again only after a sync event or a pass has run.
  let syncRequested = false;
  const requestSync = async () => {
    if (syncRequested) return;
    syncRequested = true;
    await scope.registration.sync?.register(SYNC_TAG).catch(() => (syncRequested = false));
  };
  const changes = createChanges(
    manifest,
    async () => {
      const { pending, inflight } = await countByState();
      return pending + inflight > 0;
    },
    echoes,
  );
  const scheduler = createScheduler(resources.context, options.concurrency, (all, delivered) => {
    void status().then(
      (s) => broadcast('status', s),
      () => {},
    );
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

  const operations = createOperations({ resources, changes, scheduler, syncNow, clearCaches: () => manifest.clearCaches() });
  const { status } = operations;

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
    answer: operations.answer,
    /** A request a route matched: credentials it carries may free writes waiting for them. */
    noteRequest(request: Request, event: ExtendableEvent) {
      if (noteCredentials(request))
        event.waitUntil(
          resumeAuth(Date.now())
            .then((n) => (n ? syncNow() : undefined))
            .catch(report),
        );
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
          onNetworkSuccess: async (item, answer) => {
            // A write that went straight through changed the item: its cached
            // copies (and their ETags) are refreshed, as after a replay; so its
            // notice is an echo once that refresh is done (changes/echoes.ts).
            if (item) {
              resources.touch({ resource: item.resource.name, itemId: item.id }, answer.headers.get(CHANGE_CURSOR));
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
