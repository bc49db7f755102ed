/**
 * What a page may ask of the outbox (the page↔worker protocol's
 * operations): its status, its entries, sync now, and settling a write
 * (retry, discard, resolve) or everything (clear, at log-out). One table
 * from operation name to behaviour; own names only.
 */
import { get } from 'idb-keyval';
import type { EntrySummary, OutboxRequest, OutboxStatus, Resolution } from '../../common/messages.js';
import type { createChanges } from '../changes/changes.js';
import { forgetNotCached, listNotCached } from '../cache/not-cached.js';
import { getScope } from '../scope.js';
import { broadcast } from '../shared/broadcast.js';
import { endEpoch } from '../store/epoch.js';
import { metaStore } from '../store/db.js';
import { forgetCredentials } from './credentials.js';
import { rekeyed, toSummary } from './entry.js';
import type { createResourceReplay } from './resource-replay.js';
import type { Scheduler } from './scheduler.js';
import { report } from './scheduler.js';
import { clearOutbox, countByState, findEntry, listEntries, oldestCreatedAt, refreshBusy, removeEntry, saveEntry, saveWithBody } from './store.js';

/** An error with a stable code, as data that crosses postMessage. */
const coded = (code: string, message: string) => Object.assign(new Error(message), { code });

export interface OperationsContext {
  resources: ReturnType<typeof createResourceReplay>;
  changes: ReturnType<typeof createChanges>;
  scheduler: Scheduler;
  /** Explicit triggers are urgent: see Scheduler.syncNow. */
  syncNow(): Promise<void>;
  /** Deletes this worker's caches (log-out). */
  clearCaches(): Promise<void>;
}

export function createOperations({ resources, changes, scheduler, syncNow, clearCaches }: OperationsContext) {
  const scope = getScope();
  async function status(): Promise<OutboxStatus> {
    const [counts, lastSyncAt, oldestPendingAt, notCached] = await Promise.all([countByState(), get<number>('lastSyncAt', metaStore), oldestCreatedAt(), listNotCached()]);
    return {
      pending: counts.pending,
      inFlight: counts.inflight,
      conflicts: counts.conflict,
      auth: counts.auth,
      dead: counts.dead,
      online: (scope as unknown as { navigator: Navigator }).navigator.onLine,
      lastSyncAt: lastSyncAt ?? null,
      oldestPendingAt,
      notCached,
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
    if (action !== 'replace')
      throw coded('bad-resolution', `unknown action ${typeof action === 'string' ? JSON.stringify(action) : typeof action}; use "retry", "discard" or "replace"`);
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
    await clearCaches();
    await forgetNotCached();
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
    status,
    /** Runs a page's request; unknown operations are refused as data, never thrown across postMessage. */
    async answer(request: OutboxRequest): Promise<unknown> {
      // Own names only: `constructor`, `__proto__` or `['clear']` are not operations.
      const op: unknown = request.op;
      const operation = typeof op === 'string' && Object.hasOwn(operations, op) ? (operations[op as keyof typeof operations] as (args: unknown) => Promise<unknown>) : undefined;
      if (!operation) throw coded('unknown-operation', `unknown operation ${typeof op === 'string' ? JSON.stringify(op) : typeof op}`);
      return operation(request.args);
    },
  };
}
