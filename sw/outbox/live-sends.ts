/**
 * Writes on their way to the network straight from the page (not from the
 * outbox), recorded in IndexedDB for as long as they are in flight. Two
 * things need a record that outlives the worker instance sending it:
 *
 * - A worker stopped mid-send: Chromium dispatches the page's unanswered
 *   fetch once more, to a fresh worker. The copy must carry the same
 *   Idempotency-Key, or a server that honours keys applies it twice. A copy
 *   is recognised by its fingerprint (page, method, URL, body) on a record
 *   left by another instance; if the first copy was queued meanwhile, the
 *   copy is answered from that entry.
 * - A worker update: the old instance may still be sending a write to a
 *   group when the new one gets the next write to it. The new one waits for
 *   the old send to settle (delivered, or queued in its place) before it
 *   decides, so the two never swap places.
 *
 * A legitimate repeat (the page sends the same thing twice) comes to the
 * same instance after the first was answered, when its record is gone.
 */
import { promisifyRequest } from 'idb-keyval';
import { ENTRIES, META, openDatabase } from '../store/db.js';
import { isLive, type OutboxEntry } from './entry.js';
import { grouped } from '../store/grouped.js';

/** This worker instance: records of other instances are another worker's (or a dead one's). */
export const INSTANCE = crypto.randomUUID();

/** How long a record outlives its send's timeout before it is ignored (a worker killed without cleaning up). */
const GRACE_MS = 30_000;
/** How often a write waiting for another instance's send looks again. */
const POLL_MS = 50;

export interface LiveRecord {
  /** The Idempotency-Key header value sent. */
  key: string;
  fingerprint: string;
  instance: string;
  /** Until when the send may still be running (its timeout, plus grace). */
  until: number;
  /** The outbox entry it became, once queued. */
  queued?: string;
}

export const recordKey = (group: string, fingerprint: string): string => `live ${group} ${fingerprint}`;
const inGroup = (group: string) => IDBKeyRange.bound(`live ${group} `, `live ${group} \uffff`);

/** A digest of what makes a request this request: its page, method, URL and body. */
export async function fingerprintOf(clientId: string, method: string, url: string, body: ArrayBuffer | null): Promise<string> {
  const head = new TextEncoder().encode(`${clientId}\n${method}\n${url}\n`);
  const all = new Uint8Array(head.byteLength + (body?.byteLength ?? 0));
  all.set(head);
  if (body) all.set(new Uint8Array(body), head.byteLength);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export type LiveStart =
  /** Send it: the record is in place (`key`: a copy's key to reuse). */
  | { go: true; key?: string }
  /** Another instance is sending to this group: ask again shortly. */
  | { go: false; wait: true }
  /** The group has queued writes (in IndexedDB, whichever instance queued them): queue it behind them. */
  | { go: false; busy: true; key?: string }
  /** A copy of a write already queued: answer from that entry. */
  | { go: false; queued: string; key: string };

interface Start {
  group: string;
  fingerprint: string;
  key: string;
  timeoutMs: number;
}

/**
 * For each send, in one transaction shared by the sends that arrive
 * together (group commit): looks at its group's live sends and queued
 * writes, and records the send if it may go.
 */
const startLiveSends = grouped<Start, LiveStart>(async (batch) => {
  const now = Date.now();
  const t = (await openDatabase()).transaction([META, ENTRIES], 'readwrite', { durability: 'relaxed' });
  const meta = t.objectStore(META);
  const results = await Promise.all(batch.map((s) => decide(t, meta, s, now)));
  await promisifyRequest(t);
  return results;
});

async function decide(t: IDBTransaction, meta: IDBObjectStore, { group, fingerprint, key, timeoutMs }: Start, now: number): Promise<LiveStart> {
  const [records, keys, entries] = await Promise.all([
    promisifyRequest(meta.getAll(inGroup(group))) as Promise<LiveRecord[]>,
    promisifyRequest(meta.getAllKeys(inGroup(group))),
    promisifyRequest(t.objectStore(ENTRIES).index('group').getAll(group)) as Promise<OutboxEntry[]>,
  ]);
  let result: LiveStart | undefined;
  let reuse: string | undefined;
  records.forEach((r, i) => {
    if (r.until < now) {
      // A send whose worker died without cleaning up: only its key may be of use.
      if (r.fingerprint === fingerprint && r.instance !== INSTANCE) reuse = r.key;
      meta.delete(keys[i]!);
    } else if (r.fingerprint === fingerprint && r.instance !== INSTANCE) {
      reuse = r.key;
      if (r.queued) result = { go: false, queued: r.queued, key: r.key };
    } else if (r.instance !== INSTANCE) result ??= { go: false, wait: true };
  });
  if (!result && entries.some(isLive)) result = { go: false, busy: true, key: reuse };
  if (!result) {
    meta.put({ key: reuse ?? key, fingerprint, instance: INSTANCE, until: now + timeoutMs + GRACE_MS } satisfies LiveRecord, recordKey(group, fingerprint));
    result = { go: true, key: reuse };
  }
  return result;
}

/** Waits for another instance's send to the group to settle, then starts this one. */
export async function startWhenFree(group: string, fingerprint: string, key: string, timeoutMs: number): Promise<Exclude<LiveStart, { wait: true }>> {
  for (;;) {
    const start = await startLiveSends({ group, fingerprint, key, timeoutMs });
    if (!('wait' in start)) return start;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The page has its answer: the record goes (removals arriving together share a transaction). */
export const endLiveSend = grouped<string>(async (records) => {
  const t = (await openDatabase()).transaction(META, 'readwrite', { durability: 'relaxed' });
  for (const record of records) t.objectStore(META).delete(record);
  await promisifyRequest(t);
});
