/**
 * The outbox's storage verbs. Queued writes are acknowledged only once the
 * transaction holding them has committed with `durability: 'strict'` (flushed
 * to disk, not merely handed to the OS). Enqueues that arrive while a commit
 * is under way wait and share the next transaction: under load, one flush
 * acknowledges many writes, and an idle enqueue waits for no one.
 */
import { promisifyRequest } from 'idb-keyval';
import { BODIES, ENTRIES, openDatabase } from '../store/db.js';
import type { EntryState, OutboxEntry } from './entry.js';

interface Waiting {
  entry: OutboxEntry;
  body: ArrayBuffer | null;
  resolve: () => void;
  reject: (error: unknown) => void;
}

let waiting: Waiting[] = [];
let committing = false;

/**
 * Everything but an enqueue commits relaxed: losing a lease, a state change
 * or a removal to a crash only means a write is sent again, with the same
 * Idempotency-Key.
 */
const RELAXED: IDBTransactionOptions = { durability: 'relaxed' };

const tx = async (stores: string[], mode: IDBTransactionMode, options?: IDBTransactionOptions) =>
  (await openDatabase()).transaction(stores, mode, options);

async function commitWaiting(): Promise<void> {
  committing = true;
  while (waiting.length) {
    const batch = waiting;
    waiting = [];
    try {
      const t = await tx([ENTRIES, BODIES], 'readwrite', { durability: 'strict' });
      const entries = t.objectStore(ENTRIES);
      const bodies = t.objectStore(BODIES);
      for (const w of batch) {
        // The body is stored under the sequence the entry just got.
        entries.add(w.entry).onsuccess = (e) => {
          w.entry.seq = (e.target as IDBRequest<number>).result;
          bodies.add(w.body, w.entry.seq);
        };
      }
      await promisifyRequest(t);
      const groups = await (busy ??= loadBusy());
      for (const w of batch) {
        groups.add(w.entry.group);
        w.resolve();
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
  committing = false;
}

/** Stores a write durably; resolves once committed (the entry then has its `seq`). */
export function enqueue(entry: OutboxEntry, body: ArrayBuffer | null): Promise<void> {
  return new Promise((resolve, reject) => {
    waiting.push({ entry, body, resolve, reject });
    if (!committing) void commitWaiting();
  });
}

/**
 * The groups with live entries (waiting, in flight, conflicted, parked for
 * auth), kept in memory: asking IndexedDB for every write would queue each
 * read behind the strict commits of the writes before it. Read once per
 * worker instance, then kept current by this module's own writes (a second
 * worker instance writing at the same time, during an update, is not seen).
 */
let busy: Promise<Set<string>> | undefined;

const loadBusy = async () =>
  new Set((await listEntries()).filter((e) => e.state !== 'dead').map((e) => e.group));

export async function groupIsBusy(group: string): Promise<boolean> {
  return (await (busy ??= loadBusy())).has(group);
}

/** Recomputes the busy groups from what the store holds now (after a replay pass, a discard). */
export async function refreshBusy(): Promise<void> {
  const fresh = loadBusy();
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

/**
 * Marks an entry in flight with a lease and reads its body, atomically: only
 * a pending entry (or one whose lease lapsed) can be claimed, so two replays
 * never send the same entry at once, even from two worker instances.
 */
export async function claim(seq: number, leaseUntil: number, now: number): Promise<{ entry: OutboxEntry; body: ArrayBuffer | null } | undefined> {
  const t = await tx([ENTRIES, BODIES], 'readwrite', RELAXED);
  const entries = t.objectStore(ENTRIES);
  const entry = (await promisifyRequest(entries.get(seq))) as OutboxEntry | undefined;
  if (!entry || !(entry.state === 'pending' || (entry.state === 'inflight' && entry.leaseUntil < now))) return undefined;
  entry.state = 'inflight';
  entry.leaseUntil = leaseUntil;
  entries.put(entry);
  const body = (await promisifyRequest(t.objectStore(BODIES).get(seq))) as ArrayBuffer | null;
  await promisifyRequest(t);
  return { entry, body };
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

/** Writes an entry's new state (after an outcome, a retry or a resolution). */
export async function saveEntry(entry: OutboxEntry): Promise<void> {
  const t = await tx([ENTRIES], 'readwrite', RELAXED);
  t.objectStore(ENTRIES).put(entry);
  await promisifyRequest(t);
}

/** Removes an entry and its body: only after success, or an explicit discard. */
export async function removeEntry(seq: number): Promise<void> {
  const t = await tx([ENTRIES, BODIES], 'readwrite', RELAXED);
  t.objectStore(ENTRIES).delete(seq);
  t.objectStore(BODIES).delete(seq);
  await promisifyRequest(t);
}

/** Puts entries parked for auth back in line (credentials work again); returns how many. */
export async function resumeAuth(now: number): Promise<number> {
  const t = await tx([ENTRIES], 'readwrite');
  const entries = t.objectStore(ENTRIES);
  const parked = (await promisifyRequest(entries.index('state').getAll('auth'))) as OutboxEntry[];
  for (const entry of parked) entries.put({ ...entry, state: 'pending', nextAttemptAt: now });
  await promisifyRequest(t);
  return parked.length;
}
