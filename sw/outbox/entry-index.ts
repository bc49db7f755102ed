/**
 * The outbox's entries in memory, per worker instance: what its readers need
 * of each (never a body, nor headers, policy or a conflict's two versions:
 * a few hundred bytes an entry). It answers what is asked on every
 * request and every status: a declared resource's live writes (the
 * overlay), whether a group, a resource or a local id has live writes, the
 * counts per state and the oldest entry, without one structured-clone read
 * per queued write.
 *
 * A fast path; IndexedDB stays the truth for claims. store.ts keeps it in
 * step, and is the only module that changes it:
 *
 * - Every full read of `entries` (listEntries) rebuilds it, in the read's own
 *   success callback. A write is applied here only once its transaction has
 *   committed, and with no await in between; transactions on `entries` run
 *   one after another, so a write applied before that callback committed
 *   before the read (the read holds it) and one applied after it committed
 *   after (it lands on top). None of this instance's writes is missed, and
 *   nothing comes back after a clear or a discard: a write-back that found
 *   its entry gone put nothing, and applies nothing.
 * - Another worker instance's writes (two run at once, briefly, during an
 *   update): each instance tells the others on a channel after its writes
 *   commit, and their indexes read the store again at their next use. That
 *   is best effort (a message is a task away; a worker version without the
 *   channel tells nothing), so the bound is the next full read: at the
 *   latest the end of this instance's next replay pass (scheduler.ts). A live send looks at
 *   IndexedDB itself before it goes (live-sends.ts), and a claim is made in
 *   IndexedDB, so neither trusts this index.
 */
import { getScope } from '../scope.js';
import { isLive, type EntryState, type OutboxEntry } from './entry.js';

/**
 * What the index keeps of an entry: what the overlay (local-writes.ts), the
 * counts, the oldest and the local ids need. Frozen: readers share it.
 */
export type IndexedEntry = Readonly<
  Pick<OutboxEntry, 'id' | 'key' | 'group' | 'state' | 'method' | 'createdAt' | 'bodyBytes' | 'resource' | 'itemId' | 'tempId'> & { seq: number }
>;

const keep = ({ seq, id, key, group, state, method, createdAt, bodyBytes, resource, itemId, tempId }: OutboxEntry): IndexedEntry =>
  Object.freeze({ seq: seq!, id, key, group, state, method, createdAt, bodyBytes, resource, itemId, tempId });

type Bucket = Map<number, IndexedEntry>;

interface Index {
  /**
   * Every entry (dead ones too), by seq, in seq order: a full read inserts
   * them in order, and every later entry of the store has a higher seq than
   * any before it (auto-increment), while a changed entry keeps its place.
   * So the first is the oldest. (Another instance's entry that this one
   * changes before it has read the store again goes last: right again at
   * that read.)
   */
  all: Map<number, IndexedEntry>;
  counts: Record<EntryState, number>;
  /** Live entries by group, and by declared resource. */
  groups: Map<string, Bucket>;
  resources: Map<string, Bucket>;
  /** The local ids of live creates the server has yet to name, by seq. */
  localIds: Map<number, string>;
}

const STATES: EntryState[] = ['pending', 'inflight', 'conflict', 'auth', 'dead'];

/** Undefined until the first full read: then never again (per instance). */
let index: Index | undefined;
/** Set when another instance wrote: still answers (and follows this instance's writes), but is read again at the next use. */
let stale = false;

const the = (): Index => {
  if (!index) throw new Error('entry-index: not loaded; read the entries first (store.ts listEntries)');
  return index;
};

/** Whether the index may be trusted: read, and not made stale since. */
export const isLoaded = (): boolean => index !== undefined && !stale;

/**
 * The other instances of this registration's worker, on a channel of their
 * own (not the pages'). An instance says `hello` when it opens the channel
 * and the others answer `here`; from then on each tells the others
 * `changed` after its writes commit, and their indexes read the store again
 * at their next use. With no other instance (almost always), nothing is
 * posted: a message per commit would cost every replayed write a little.
 */
let peers: BroadcastChannel | undefined;
let peerSeen = false;
function peerChannel(): BroadcastChannel {
  if (!peers) {
    const channel = new BroadcastChannel(`offline-outbox entries ${getScope().registration.scope}`);
    channel.onmessage = ({ data }: MessageEvent) => {
      peerSeen = true;
      if (data === 'hello') channel.postMessage('here');
      else if (data === 'changed') stale = index !== undefined;
    };
    channel.postMessage('hello');
    peers = channel;
  }
  return peers;
}

/** Hears the other instances' writes from now on: call it before the first full read, so none falls between. Never throws. */
export function listen(): void {
  try {
    peerChannel();
  } catch {
    // No channel: another instance's writes are seen at the next full read.
  }
}

/** Tells the other instances, if any, that this one's writes have committed. Never throws. */
export function tellPeers(): void {
  try {
    const channel = peerChannel();
    if (peerSeen) channel.postMessage('changed');
  } catch {
    // A closed channel: the next write opens a new one (the peers' next full read sees it anyway).
    peers = undefined;
  }
}

/** Rebuilds the index from a full read of the store (in seq order, as `getAll` returns it). */
export function reset(entries: OutboxEntry[]): void {
  stale = false;
  index = {
    all: new Map(),
    counts: Object.fromEntries(STATES.map((s) => [s, 0])) as Record<EntryState, number>,
    groups: new Map(),
    resources: new Map(),
    localIds: new Map(),
  };
  for (const entry of entries) set(entry);
}

/** An entry as the store now holds it (added or changed). Nothing before the first full read: that read will hold it. */
export function set(entry: OutboxEntry): void {
  if (!index) return;
  // A copy: the caller's object may change without being saved.
  const next = keep(entry);
  const seq = next.seq;
  const before = index.all.get(seq);
  if (before) index.counts[before.state]--;
  index.all.set(seq, next);
  index.counts[next.state]++;
  const live = isLive(next);
  move(index.groups, seq, before && isLive(before) ? before.group : undefined, live ? next.group : undefined, next);
  move(index.resources, seq, before && isLive(before) ? before.resource : undefined, live ? next.resource : undefined, next);
  if (live && next.tempId && next.itemId !== undefined) index.localIds.set(seq, next.itemId);
  else index.localIds.delete(seq);
}

/** An entry the store no longer holds. */
export function del(seq: number): void {
  const before = index?.all.get(seq);
  if (!index || !before) return;
  index.all.delete(seq);
  index.counts[before.state]--;
  if (isLive(before)) {
    move(index.groups, seq, before.group, undefined, before);
    move(index.resources, seq, before.resource, undefined, before);
  }
  index.localIds.delete(seq);
}

/**
 * Moves an entry from one bucket to another. Staying in its bucket keeps its
 * place (a Map keeps a key's first insertion), so a bucket stays in seq
 * order unless an entry joins it late (retried from dead, renamed).
 */
function move(buckets: Map<string, Bucket>, seq: number, from: string | undefined, to: string | undefined, entry: IndexedEntry): void {
  if (from !== undefined && from !== to) {
    const bucket = buckets.get(from);
    bucket?.delete(seq);
    if (bucket && !bucket.size) buckets.delete(from);
  }
  if (to === undefined) return;
  let bucket = buckets.get(to);
  if (!bucket) buckets.set(to, (bucket = new Map()));
  bucket.set(seq, entry);
}

/**
 * A declared resource's live writes in seq order (`group`: one item's only).
 * O(the resource's, or the group's, live writes).
 */
export function writesOf(resource: string, group?: string): IndexedEntry[] {
  const bucket = group === undefined ? the().resources.get(resource) : the().groups.get(group);
  const writes: IndexedEntry[] = [];
  let ordered = true;
  for (const entry of bucket?.values() ?? []) {
    if (entry.resource !== resource) continue;
    if (writes.length && entry.seq < writes[writes.length - 1]!.seq) ordered = false;
    writes.push(entry);
  }
  return ordered ? writes : writes.sort((a, b) => a.seq - b.seq);
}

/** Whether a group has live entries (waiting, in flight, conflicted, parked for auth). */
export const hasGroup = (group: string): boolean => the().groups.has(group);

/** Whether a declared resource has live writes (the overlay applies them). */
export const hasResource = (resource: string): boolean => the().resources.has(resource);

/** The local ids of the live creates the server has yet to name. */
export const localIds = (): Iterable<string> => the().localIds.values();

/** How many entries are in each state. */
export const counts = (): Record<EntryState, number> => ({ ...the().counts });

/** The first entry in sequence order (dead ones included), if any. */
export const oldest = (): IndexedEntry | undefined => the().all.values().next().value;
