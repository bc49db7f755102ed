/**
 * The outbox's storage verbs. Queued writes are acknowledged only once the
 * transaction holding them has committed with `durability: 'strict'` (flushed
 * to disk, not merely handed to the OS). Enqueues that arrive while a commit
 * is under way wait and share the next transaction: under load, one flush
 * acknowledges many writes, and an idle enqueue waits for no one.
 */
import { promisifyRequest } from 'idb-keyval';
import { BODIES, ENTRIES, META, openDatabase } from '../store/db.js';
import { currentEpoch, isCurrent } from '../store/epoch.js';
import { grouped } from '../store/grouped.js';
import { isLive, type EntryState, type OutboxEntry } from './entry.js';
import { COPY_KEYS, copiedEntry, copyKey, type CopyRecord, copyRecord, isYoung } from './copies.js';
import { INSTANCE } from './live-sends.js';

/**
 * Everything but an enqueue commits relaxed: losing a lease, a state change
 * or a removal to a crash only means a write is sent again, with the same
 * Idempotency-Key.
 */
const RELAXED: IDBTransactionOptions = { durability: 'relaxed' };

const tx = async (stores: string[], mode: IDBTransactionMode, options?: IDBTransactionOptions) => (await openDatabase()).transaction(stores, mode, options);

interface Enqueue {
  entry: OutboxEntry;
  body: ArrayBuffer | null;
  epoch: number;
  /** The record of its live send (live-sends.ts), marked queued in the same transaction. */
  live?: string;
  /** Its fingerprint (live-sends.ts), for a write queued without a live send: recorded, so a copy is recognised (copies.ts). */
  fingerprint?: string;
  /** Set when the write began before a clear(): it is not stored. */
  dropped?: boolean;
  /** Set when it is a copy of an entry another instance committed: nothing is stored, the copy is that entry. */
  copyOf?: string;
}

/** Expired copy records are swept once per instance, at its first enqueue. */
let swept = false;

const commitEnqueues = grouped<Enqueue>(async (all) => {
  // A write made before a log-out is not stored after it (see epoch.ts).
  for (const w of all) w.dropped = !isCurrent(w.epoch);
  const batch = all.filter((w) => !w.dropped);
  if (!batch.length) return;
  const t = await tx([ENTRIES, BODIES, META], 'readwrite', { durability: 'strict' });
  const entries = t.objectStore(ENTRIES);
  const bodies = t.objectStore(BODIES);
  const meta = t.objectStore(META);
  const now = Date.now();
  if (!swept) {
    swept = true;
    const records = meta.openCursor(COPY_KEYS());
    records.onsuccess = () => {
      const cursor = records.result;
      if (!cursor) return;
      if ((cursor.value as CopyRecord).until <= now) cursor.delete();
      cursor.continue();
    };
  }
  const add = (w: Enqueue) => {
    // The body is stored under the sequence the entry just got.
    entries.add(w.entry).onsuccess = (e) => {
      w.entry.seq = (e.target as IDBRequest<number>).result;
      bodies.add(w.body, w.entry.seq);
    };
    // A copy of this write dispatched to another instance is answered from this entry, not queued again.
    if (w.live) {
      const record = meta.get(w.live);
      record.onsuccess = () => record.result && meta.put({ ...record.result, queued: w.entry.id }, w.live);
    }
    if (w.fingerprint) meta.put(copyRecord(w.entry.id, now), copyKey(w.fingerprint));
  };
  // An error thrown in a request's callback aborts the transaction as an
  // AbortError: the real one (a full disk, say) is kept to be thrown instead.
  let failure: unknown;
  const addOrAbort = (w: Enqueue) => {
    try {
      add(w);
    } catch (error) {
      failure ??= error;
      t.abort();
    }
  };
  if (isYoung()) {
    // A young instance may be taking a stopped one's writes again: it looks
    // for each one's record first. Each write is added in its lookup's
    // callback, and callbacks run in request order, so the entries keep
    // the batch's order.
    for (const w of batch) {
      const lookup = meta.get(w.fingerprint ? copyKey(w.fingerprint) : w.entry.id);
      lookup.onsuccess = () => {
        w.copyOf = w.fingerprint ? copiedEntry(lookup.result as CopyRecord | undefined, now) : undefined;
        if (!w.copyOf) return addOrAbort(w);
        // This instance answered the copy: the next such write it gets is the page's own repeat.
        meta.put({ ...(lookup.result as CopyRecord), instance: INSTANCE }, copyKey(w.fingerprint!));
      };
    }
  } else for (const w of batch) add(w);
  await promisifyRequest(t).catch((error: unknown) => {
    throw failure ?? error;
  });
  const groups = await (busy ??= loadBusy());
  for (const w of batch) if (!w.copyOf) for (const g of busyGroups([w.entry])) groups.add(g);
});

/**
 * Stores a write durably; resolves once committed (the entry then has its
 * `seq`). `epoch`: when the write began; one begun before a clear() is refused.
 * Resolves with the id of the entry another instance committed when the
 * write is a copy of it (copies.ts): then nothing was stored.
 */
export async function enqueue(entry: OutboxEntry, body: ArrayBuffer | null, epoch = currentEpoch(), live?: string, fingerprint?: string): Promise<string | undefined> {
  const item: Enqueue = { entry, body, epoch, live, fingerprint };
  await commitEnqueues(item);
  if (item.dropped) throw new DOMException('the outbox was cleared (log-out) while this write was on its way', 'AbortError');
  return item.copyOf;
}

/**
 * The groups with live entries (waiting, in flight, conflicted, parked for
 * auth), kept in memory: asking IndexedDB for every write would queue each
 * read behind the strict commits of the writes before it. Read once per
 * worker instance, then kept current by this module's own writes. It is a
 * fast path only: a group it calls idle is checked again in IndexedDB before
 * a live send (live-sends.ts), where a second worker instance's entries, during
 * an update, are seen.
 */
let busy: Promise<Set<string>> | undefined;

/** Live groups, and `"\0" + resource` for each declared resource with live writes (the overlay's fast path). */
const busyGroups = (entries: OutboxEntry[]) =>
  new Set(entries.filter(isLive).flatMap((e) => [e.group, ...(e.resource ? [`\0${e.resource}`] : []), ...(e.tempId ? [`\u0001${e.itemId}`] : [])]));
const loadBusy = async () => busyGroups(await listEntries());

export async function groupIsBusy(group: string): Promise<boolean> {
  return (await (busy ??= loadBusy())).has(group);
}

/**
 * Whether `url` names the local id of a create the server has yet to name
 * (`POST /todos/<local>/files`): such a write waits for that create.
 */
export async function namesLocalId(url: string): Promise<boolean> {
  for (const key of await (busy ??= loadBusy())) if (key[0] === '\u0001' && url.includes(key.slice(1))) return true;
  return false;
}

/** Whether a declared resource has writes the overlay must apply (no storage read when it has none). */
export const resourceIsBusy = (name: string): Promise<boolean> => groupIsBusy(`\0${name}`);

/** Recomputes the busy groups from the store's entries (read by the caller, or now). */
export async function refreshBusy(entries?: OutboxEntry[]): Promise<void> {
  const fresh = entries ? Promise.resolve(busyGroups(entries)) : loadBusy();
  await fresh;
  busy = fresh;
}

/** Counts per state, from the state index: no entry is read. */
export async function countByState(): Promise<Record<EntryState, number>> {
  const index = (await tx([ENTRIES], 'readonly')).objectStore(ENTRIES).index('state');
  const states: EntryState[] = ['pending', 'inflight', 'conflict', 'auth', 'dead'];
  const counts = await Promise.all(states.map((s) => promisifyRequest(index.count(s))));
  return Object.fromEntries(states.map((s, i) => [s, counts[i]])) as Record<EntryState, number>;
}

/** The oldest entry's creation time: the first in sequence order. */
export async function oldestCreatedAt(): Promise<number | null> {
  const cursor = await promisifyRequest((await tx([ENTRIES], 'readonly')).objectStore(ENTRIES).openCursor());
  return cursor ? (cursor.value as OutboxEntry).createdAt : null;
}

/** Every entry in FIFO order, without bodies. */
export async function listEntries(): Promise<OutboxEntry[]> {
  return promisifyRequest((await tx([ENTRIES], 'readonly')).objectStore(ENTRIES).getAll() as IDBRequest<OutboxEntry[]>);
}

export async function findEntry(id: string): Promise<OutboxEntry | undefined> {
  return promisifyRequest((await tx([ENTRIES], 'readonly')).objectStore(ENTRIES).index('id').get(id) as IDBRequest<OutboxEntry | undefined>);
}

/** One entry's stored body. */
export async function readBody(seq: number): Promise<ArrayBuffer | null> {
  return ((await promisifyRequest((await tx([BODIES], 'readonly')).objectStore(BODIES).get(seq))) as ArrayBuffer | undefined) ?? null;
}

export interface Claimed {
  entry: OutboxEntry;
  body: ArrayBuffer | null;
}

const claimable = (e: OutboxEntry | undefined, now: number): e is OutboxEntry => !!e && (e.state === 'pending' || (e.state === 'inflight' && e.leaseUntil < now));

/**
 * Marks entries in flight with a lease and reads their bodies, atomically and
 * in one transaction: the given run of a group's entries, in order, up to the
 * first that cannot be claimed. Only a pending entry (or one whose lease
 * lapsed) can be, so two replays never send the same entry at once, even
 * from two worker instances.
 */
export async function claim(seqs: number[], leaseUntil: number, now: number): Promise<Claimed[]> {
  const t = await tx([ENTRIES, BODIES], 'readwrite', RELAXED);
  const entries = t.objectStore(ENTRIES);
  const bodies = t.objectStore(BODIES);
  const claimed: Claimed[] = [];
  for (const seq of seqs) {
    const entry = (await promisifyRequest(entries.get(seq))) as OutboxEntry | undefined;
    if (!claimable(entry, now)) break;
    entry.state = 'inflight';
    entry.leaseUntil = leaseUntil;
    entries.put(entry);
    claimed.push({ entry, body: (await promisifyRequest(bodies.get(seq))) as ArrayBuffer | null });
  }
  await promisifyRequest(t);
  return claimed;
}

/**
 * Every write-back of an entry held in memory goes through this fence: it is
 * put only if the store still holds that very entry. An entry discarded, or
 * emptied by clear(), while its replay waited for an answer stays gone.
 */
function putIfPresent(entries: IDBObjectStore, entry: OutboxEntry, then?: () => void): void {
  const request = entries.get(entry.seq!);
  request.onsuccess = () => {
    if ((request.result as OutboxEntry | undefined)?.id !== entry.id) return;
    entries.put(entry);
    then?.();
  };
}

/** Puts claimed entries that were not sent back in line (their group stopped before them). */
export async function release(claimed: Claimed[]): Promise<void> {
  if (!claimed.length) return;
  const t = await tx([ENTRIES], 'readwrite', RELAXED);
  for (const { entry } of claimed) putIfPresent(t.objectStore(ENTRIES), { ...entry, state: 'pending', leaseUntil: 0 });
  await promisifyRequest(t);
}

/** Extends the lease of entries this worker still has in flight. */
export async function renewLeases(seqs: number[], leaseUntil: number): Promise<void> {
  const t = await tx([ENTRIES], 'readwrite', RELAXED);
  const entries = t.objectStore(ENTRIES);
  for (const seq of seqs) {
    const request = entries.get(seq);
    request.onsuccess = () => {
      const entry = request.result as OutboxEntry | undefined;
      if (entry?.state === 'inflight') entries.put({ ...entry, leaseUntil });
    };
  }
  await promisifyRequest(t);
}

/** Writes an entry's new state (after an outcome, a retry or a resolution), if it is still there. */
export async function saveEntry(entry: OutboxEntry): Promise<void> {
  const t = await tx([ENTRIES], 'readwrite', RELAXED);
  putIfPresent(t.objectStore(ENTRIES), entry);
  await promisifyRequest(t);
}

/**
 * Removes an entry and its body: only after success, or an explicit discard.
 * Grouped like enqueues: six groups replaying at once would otherwise wait
 * on each other's bookkeeping.
 */
export const removeEntry = grouped<number>(async (seqs) => {
  const t = await tx([ENTRIES, BODIES], 'readwrite', RELAXED);
  for (const seq of seqs) {
    t.objectStore(ENTRIES).delete(seq);
    t.objectStore(BODIES).delete(seq);
  }
  await promisifyRequest(t);
});

/** Puts entries parked for auth back in line (credentials work again); returns how many. */
export async function resumeAuth(now: number): Promise<number> {
  const t = await tx([ENTRIES], 'readwrite', RELAXED);
  const entries = t.objectStore(ENTRIES);
  const parked = (await promisifyRequest(entries.index('state').getAll('auth'))) as OutboxEntry[];
  for (const entry of parked) entries.put({ ...entry, state: 'pending', nextAttemptAt: now });
  await promisifyRequest(t);
  return parked.length;
}

/**
 * A declared resource's live writes in order, with their bodies: what the
 * overlay applies (`group`: one item's). `known`: entries whose body the
 * caller already holds; theirs are not read (body undefined).
 */
export async function resourceWrites(resource: string, group?: string, known?: (entry: OutboxEntry) => boolean): Promise<{ entry: OutboxEntry; body?: ArrayBuffer | null }[]> {
  const t = await tx([ENTRIES, BODIES], 'readonly');
  const index = t.objectStore(ENTRIES).index(group === undefined ? 'resource' : 'group');
  const all = (await promisifyRequest(index.getAll(group ?? resource))) as OutboxEntry[];
  const entries = all.filter((e) => isLive(e) && e.resource === resource);
  const bodies = await Promise.all(entries.map((e) => (known?.(e) ? undefined : (promisifyRequest(t.objectStore(BODIES).get(e.seq!)) as Promise<ArrayBuffer | null>))));
  return entries.map((entry, i) => ({ entry, body: bodies[i] }));
}

/** Writes an entry and a new body for it together (a conflict settled by `replace`). */
export async function saveWithBody(entry: OutboxEntry, body: ArrayBuffer | null): Promise<void> {
  const t = await tx([ENTRIES, BODIES], 'readwrite', { durability: 'strict' });
  putIfPresent(t.objectStore(ENTRIES), entry, () => t.objectStore(BODIES).put(body, entry.seq));
  await promisifyRequest(t);
}

/**
 * A create with a local id was delivered and the server named the item
 * `serverId`: in one transaction, the create leaves the outbox, every later
 * write that used the local id (in its URL, its group or its body) uses the
 * server's from now on, and the pair is remembered (`remember`: its meta key
 * and value) for requests that still use the local id. A crash cannot leave
 * one without the others. `rewrite` maps a write's body to its new bytes, or
 * undefined when it does not change.
 */
export async function settleCreate(
  create: OutboxEntry,
  localId: string,
  serverId: string,
  rewrite: (body: ArrayBuffer, entry: OutboxEntry) => ArrayBuffer | undefined,
  remember: [string, unknown],
): Promise<void> {
  const t = await tx([ENTRIES, BODIES, META], 'readwrite', { durability: 'strict' });
  const entries = t.objectStore(ENTRIES);
  const bodies = t.objectStore(BODIES);
  entries.delete(create.seq!);
  bodies.delete(create.seq!);
  t.objectStore(META).put(remember[1], remember[0]);
  const later = (await promisifyRequest(entries.getAll(IDBKeyRange.lowerBound(create.seq!, true)))) as OutboxEntry[];
  for (const entry of later) {
    const body = (await promisifyRequest(bodies.get(entry.seq!))) as ArrayBuffer | null;
    const bytes = body && rewrite(body, entry);
    if (bytes) {
      bodies.put(bytes, entry.seq);
      entry.bodyBytes = bytes.byteLength;
    }
    const swap = (text: string) => text.split(encodeURIComponent(localId)).join(encodeURIComponent(serverId));
    const url = swap(entry.url);
    if (!bytes && url === entry.url && entry.itemId !== localId) continue;
    if (entry.itemId === localId) entry.itemId = serverId;
    entries.put({ ...entry, url, group: swap(entry.group) });
  }
  await promisifyRequest(t);
  await refreshBusy();
}

/**
 * A write was delivered and the server gave its item a new strong ETag: the
 * next write queued behind it on the item is made against that version, so
 * its If-Match is stored with it now (a restarted worker must not send it
 * without a precondition).
 */
export async function chainEtag(delivered: OutboxEntry, etag: string): Promise<void> {
  const t = await tx([ENTRIES], 'readwrite', RELAXED);
  const entries = t.objectStore(ENTRIES);
  const group = (await promisifyRequest(entries.index('group').getAll(delivered.group))) as OutboxEntry[];
  const next = group.find((e) => e.seq! > delivered.seq! && isLive(e));
  if (next?.chained && next.itemId === delivered.itemId)
    entries.put({ ...next, chained: undefined, headers: [...next.headers.filter(([n]) => n !== 'if-match'), ['if-match', etag]] });
  await promisifyRequest(t);
}

/**
 * Forgets the local ids the server replaced more than `maxAgeMs` ago: by
 * then no queued write names them (they were rewritten when the create was
 * delivered), and pages have long reloaded with the server's ids.
 */
export async function pruneLocalIds(maxAgeMs: number, now = Date.now()): Promise<void> {
  const t = await tx([META], 'readwrite', RELAXED);
  const meta = t.objectStore(META);
  const range = IDBKeyRange.bound('local-id ', 'local-id \uffff');
  const [keys, values] = await Promise.all([promisifyRequest(meta.getAllKeys(range)), promisifyRequest(meta.getAll(range))]);
  values.forEach((v: { at?: number } | string, i) => {
    if (typeof v === 'string' || (v.at ?? 0) < now - maxAgeMs) meta.delete(keys[i]!);
  });
  await promisifyRequest(t);
}

/** Empties the outbox and forgets the local ids the server replaced (log-out); the stored manifest stays. */
export async function clearOutbox(): Promise<void> {
  const t = await tx([ENTRIES, BODIES, META], 'readwrite', { durability: 'strict' });
  t.objectStore(ENTRIES).clear();
  t.objectStore(BODIES).clear();
  const meta = t.objectStore(META);
  for (const key of (await promisifyRequest(meta.getAllKeys())) as IDBValidKey[]) if (!String(key).startsWith('manifest:')) meta.delete(key);
  await promisifyRequest(t);
}
