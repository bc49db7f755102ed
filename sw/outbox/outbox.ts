/**
 * The outbox as the worker uses it: the write handler, the replay triggers
 * and the page's requests (status, entries, sync now, retry, discard).
 */
import { get } from 'idb-keyval';
import type { EntrySummary, OutboxRequest, OutboxStatus } from '../../common/messages.js';
import type { RouteSpec } from '../manifest/types.js';
import { getScope } from '../scope.js';
import { metaStore } from '../store/db.js';
import { broadcast } from './broadcast.js';
import { toSummary } from './entry.js';
import { handleWrite } from './intercept.js';
import { createScheduler, report } from './scheduler.js';
import { countByState, findEntry, listEntries, oldestCreatedAt, refreshBusy, removeEntry, resumeAuth, saveEntry } from './store.js';

/** The Background Sync tag: Chromium fires it when connectivity returns. */
export const SYNC_TAG = 'offline-outbox';

export interface OutboxOptions {
  /** Groups replayed at once; 1 means one global order. @default 6 */
  concurrency?: number;
}

export function createOutbox(options: OutboxOptions = {}) {
  const scope = getScope();
  // One registration covers any number of queued writes: ask the browser
  // again only after a sync event or a pass has run.
  let syncRequested = false;
  const requestSync = async () => {
    if (syncRequested) return;
    syncRequested = true;
    await scope.registration.sync?.register(SYNC_TAG).catch(() => (syncRequested = false));
  };
  const scheduler = createScheduler(options.concurrency, () => {
    void status().then((s) => broadcast('status', s), () => {});
  });
  /** Explicit triggers (the page, Background Sync, a network success) are urgent: see Scheduler.syncNow. */
  const syncNow = () => scheduler.syncNow(true);

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

  /** Sends a parked, dead or waiting entry again now, from its first attempt. */
  async function retry(id: string): Promise<boolean> {
    const entry = await findEntry(id);
    if (!entry || entry.state === 'inflight') return false;
    await saveEntry({ ...entry, state: 'pending', attempts: 0, nextAttemptAt: Date.now() });
    syncNow().catch(report);
    return true;
  }

  async function discard(id: string): Promise<boolean> {
    const entry = await findEntry(id);
    if (!entry) return false;
    await removeEntry(entry.seq!);
    await refreshBusy();
    broadcast('status', await status());
    return true;
  }

  const operations = {
    status,
    entries: async (): Promise<EntrySummary[]> => (await listEntries()).map(toSummary),
    'sync-now': async () => (await syncNow(), status()),
    retry: ({ id }: { id: string }) => retry(id),
    discard: ({ id }: { id: string }) => discard(id),
  };

  return {
    syncNow,
    /** A worker instance's first event: look for leftovers, respecting their backoff. */
    wake: () => scheduler.syncNow(),
    status,
    /** Runs a page's request; unknown operations are refused as data, never thrown across postMessage. */
    async answer(request: OutboxRequest): Promise<unknown> {
      const operation = operations[request.op] as ((args: unknown) => Promise<unknown>) | undefined;
      if (!operation) throw Object.assign(new Error(`unknown operation "${String(request.op)}"`), { code: 'unknown-operation' });
      return operation(request.args);
    },
    handleWrite: (request: Request, spec: RouteSpec) =>
      handleWrite(request, spec, {
        fallbackUrl: scope.registration.scope,
        onQueued: (entry) => {
          void requestSync();
          scheduler.later(entry.nextAttemptAt - Date.now());
        },
        onNetworkSuccess: async () => {
          // The app's own write just went through with its credentials: writes
          // parked for auth (401/403) may work again.
          if ((await resumeAuth(Date.now()).catch(() => 0)) || scheduler.hasWork) syncNow().catch(report);
        },
      }),
    /** A successful network response anywhere is a hint that queued writes may go now. */
    onNetworkSuccess(event: ExtendableEvent) {
      if (scheduler.hasWork) event.waitUntil(syncNow());
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
      if (!event.lastChance) throw new Error(`offline-outbox: ${left.pending} writes still waiting; the browser will fire this sync again`);
      if (!scheduler.quiet) await requestSync();
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
