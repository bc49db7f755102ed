/**
 * Which queued writes go out, in what order, how many at once.
 *
 * - Within a group (one resource): strict FIFO. A group's head must settle
 *   before the next entry is sent; a head that waits (retry backoff, a
 *   conflict, an auth problem) holds its group back. A dead entry does not:
 *   it will not succeed by itself, and holding its group would jam it for good.
 * - Across groups: higher priority first, then the older head first.
 * - Up to `concurrency` groups in flight (6: a browser's connections per host).
 * - Single flight: a trigger that arrives during a pass asks for one more
 *   pass after it, never a second concurrent one.
 */
import { set } from 'idb-keyval';
import { broadcast } from '../shared/broadcast.js';
import { BACKOFF_BASE_MS } from './outcome.js';
import type { OutboxEntry } from './entry.js';
import { isLive } from './entry.js';
import { LEASE_MS, replayClaimed, settle, type ReplayContext } from './replay.js';
import { metaStore } from '../store/db.js';
import { claim, listEntries, refreshBusy, release, renewLeases, saveEntry } from './store.js';

export const DEFAULT_CONCURRENCY = 6;

/** A pass nobody awaits (a timer, a hint) that fails is reported, not thrown into the void. */
export const report = (error: unknown): void => console.warn('offline-outbox: a replay pass failed (it runs again)', error);
/** How many of a group's entries are claimed (and their bodies read) at once. */
const CLAIM_RUN = 25;
/** The longest a worker's own retry timer waits; other triggers may come sooner. */
const MAX_TIMER_MS = 5 * 60 * 1000;

export interface Scheduler {
  /**
   * Runs a pass now (or one more after the current one); resolves when the
   * outbox has nothing due. `urgent` (the page came online, Background Sync
   * fired, the app asked) also sends writes that are backing off after a
   * network error: connectivity is back, so waiting out the backoff only
   * delays them. A server's own Retry-After is still honoured.
   */
  syncNow(urgent?: boolean): Promise<void>;
  /** A pass within `ms` (or, while one runs, when the earliest entry left is due). */
  later(ms: number): void;
  /** Whether the last look at the outbox saw writes waiting (cheap: no storage read). */
  readonly hasWork: boolean;
  /** Whether a recent pass found the network unreachable (its retry timer is backing off). */
  readonly quiet: boolean;
  /** Resolves when the running passes are over (clear() waits for it). */
  idle(): Promise<void>;
}

/**
 * Whether an entry may be sent now. `urgent` also sends writes that are
 * backing off after a network error (connectivity is back); not one that
 * timed out (the server is slow, not unreachable) nor one the server answered.
 */
const due = (e: OutboxEntry, now: number, urgent: boolean) =>
  (e.state === 'pending' && (e.nextAttemptAt <= now || (urgent && e.lastStatus === undefined && !e.lastError?.startsWith('TimeoutError')))) ||
  (e.state === 'inflight' && e.leaseUntil < now);

const expiredAt = (e: OutboxEntry) => (e.policy.ttlMs === undefined ? Infinity : e.createdAt + e.policy.ttlMs);

/**
 * When the scheduler must look again: the earliest moment a group's head
 * becomes due, or a waiting write's TTL runs out. A head that waits for a
 * person or for credentials (conflict, auth) sets no timer: the event that
 * frees it (resolve, the app's next request) starts a pass itself. Timing
 * every waiting write instead of heads made a write behind a parked conflict
 * re-arm the timer at 0 ms, forever.
 */
function nextWake(groups: Map<string, OutboxEntry[]>, blocked: (e: OutboxEntry) => boolean): number {
  let at = Infinity;
  for (const queue of groups.values()) {
    const head = queue[0]!;
    if (head.state === 'pending' && !blocked(head)) at = Math.min(at, head.nextAttemptAt);
    if (head.state === 'inflight') at = Math.min(at, head.leaseUntil);
    for (const e of queue) if (e.state === 'pending') at = Math.min(at, expiredAt(e));
  }
  return at;
}

/** The live entries by group, in order; and the local ids of creates the server has yet to name. */
function groupsOf(entries: OutboxEntry[]) {
  const groups = new Map<string, OutboxEntry[]>();
  const localIds: string[] = [];
  for (const e of entries) {
    if (!isLive(e)) continue;
    const queue = groups.get(e.group);
    if (queue) queue.push(e);
    else groups.set(e.group, [e]);
    if (e.tempId && e.itemId) localIds.push(e.itemId);
  }
  // A write in another group whose URL names a still-local id (POST
  // /todos/<local>/files) waits for that create: the server knows no such item yet.
  const blocked = (e: OutboxEntry) => localIds.some((id) => id !== e.itemId && e.url.includes(id));
  return { groups, blocked };
}

/**
 * `onPassEnd` hears, once a run of passes is over, every entry the outbox
 * holds and how many writes the run delivered.
 */
export function createScheduler(context: ReplayContext, concurrency = DEFAULT_CONCURRENCY, onPassEnd?: (entries: OutboxEntry[], delivered: number) => void): Scheduler {
  let delivered = 0;
  let running: Promise<void> | undefined;
  let again = false;
  let urgent = false;
  // While the network is unreachable, the worker's own timer backs off too
  // (1 s, 2 s, 4 s … 5 min): an offline burst of writes would otherwise
  // trigger a pass a second, each reading the whole outbox to learn nothing.
  // An urgent trigger (the connection is back) ends the quiet.
  let quietUntil = 0;
  let quietStep = BACKOFF_BASE_MS;
  let hasWork = true;
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function pass(): Promise<void> {
    const now = Date.now();
    const force = urgent;
    urgent = false;
    const all = await listEntries();
    // The TTL is checked here, for every waiting write, not only a group's
    // head at its turn: one behind a parked conflict expires on time too.
    const live: OutboxEntry[] = [];
    for (const e of all) {
      if (e.state === 'pending' && expiredAt(e) < now) await settle({ ...e, state: 'dead', lastError: `expired: older than the route's ttlSeconds (${e.lastError})` }, 'dead');
      else live.push(e);
    }
    const { groups, blocked } = groupsOf(live);
    const dead = all.filter((e) => e.state === 'dead');
    const ready = [...groups.values()].filter((q) => due(q[0]!, now, force) && !blocked(q[0]!)).sort((a, b) => b[0]!.priority - a[0]!.priority || a[0]!.seq! - b[0]!.seq!);
    if (!ready.length) return;

    const total = ready.reduce((n, q) => n + q.length, 0);
    let done = 0;
    broadcast('sync-start', { total });
    const inFlight = new Set<number>();
    let unreachable = false;
    let renamed = false;
    // A fetch never outlives its lease: if the leases cannot be renewed,
    // every send of the pass is aborted (another pass will claim them).
    const lost = new AbortController();
    const renewal = setInterval(() => void renewLeases([...inFlight], Date.now() + LEASE_MS).catch((error: unknown) => lost.abort(error)), LEASE_MS / 3);
    // A group's due entries are claimed together (one transaction, not one
    // per write), in runs of CLAIM_RUN to bound the bodies held in memory.
    const runGroup = async (queue: OutboxEntry[]) => {
      for (let i = 0; i < queue.length && due(queue[i]!, now, force) && !blocked(queue[i]!); ) {
        const run: OutboxEntry[] = [];
        // A create the server will name ends a run: the writes behind it are
        // claimed afresh once their URLs and bodies carry the server's id.
        while (run.length < CLAIM_RUN && i < queue.length && due(queue[i]!, now, force) && !blocked(queue[i]!) && !run.at(-1)?.tempId) run.push(queue[i++]!);
        const claimed = await claim(
          run.map((e) => e.seq!),
          Date.now() + LEASE_MS,
          Date.now(),
        );
        for (const c of claimed) inFlight.add(c.entry.seq!);
        for (let k = 0; k < claimed.length; k++) {
          const { entry } = claimed[k]!;
          const outcome = await replayClaimed(claimed[k]!, context, lost.signal).finally(() => inFlight.delete(entry.seq!));
          if (outcome === 'done') {
            broadcast('sync-progress', { done: ++done, total });
            if (entry.tempId) renamed = true;
            // Dead writes of the group that this one went past cannot be retried silently any more.
            for (const d of dead) if (d.group === entry.group && d.seq! < entry.seq! && !d.overtaken) await saveEntry(((d.overtaken = true), d));
          } else if (outcome === 'dead') dead.push({ ...entry, state: 'dead' });
          else {
            // A network error (not an answer): the connection is down, so no
            // other group is started in this pass.
            if (outcome === 'retry' && entry.lastStatus === undefined) unreachable = true;
            // The group waits: what it had claimed behind this one goes back in line.
            const rest = claimed.slice(k + 1);
            for (const c of rest) inFlight.delete(c.entry.seq!);
            await release(rest);
            return;
          }
        }
        // Someone else held an entry (another worker instance): stop here.
        if (claimed.length < run.length) return;
      }
    };
    let next = 0;
    let failure: unknown;
    try {
      // Every lane runs to its end, whatever another's fails with: the
      // leases are renewed until the last send of the pass has settled.
      const lanes = await Promise.allSettled(
        Array.from({ length: Math.min(concurrency, ready.length) }, async () => {
          while (next < ready.length && !unreachable) await runGroup(ready[next++]!);
        }),
      );
      failure = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected')?.reason;
    } finally {
      clearInterval(renewal);
    }
    if (unreachable) {
      quietUntil = Date.now() + quietStep;
      quietStep = Math.min(MAX_TIMER_MS, quietStep * 2);
    } else quietStep = BACKOFF_BASE_MS;
    delivered += done;
    // Writes that waited for a create the server has now named may go.
    if (renamed) again = true;
    if (done) await set('lastSyncAt', Date.now(), metaStore);
    broadcast('sync-end', { done, remaining: total - done });
    if (failure) throw failure;
  }

  async function loop(): Promise<void> {
    // A pass that fails does not swallow a trigger that arrived during it: the next pass runs.
    let failure: unknown;
    try {
      do {
        again = false;
        failure = undefined;
        await pass().catch((error: unknown) => (failure = error ?? new Error('replay pass failed')));
      } while (again);
      if (failure !== undefined) throw failure;
    } finally {
      running = undefined;
      await afterPass().catch(() => {});
    }
  }

  async function afterPass(): Promise<void> {
    const all = await listEntries();
    await refreshBusy(all);
    hasWork = all.some((e) => e.state === 'pending' || e.state === 'inflight');
    const { groups, blocked } = groupsOf(all);
    const at = nextWake(groups, blocked);
    // While the worker lives, come back when the earliest retry is due.
    if (at < Infinity) scheduler.later(at - Date.now());
    onPassEnd?.(all, delivered);
    delivered = 0;
  }

  let timerAt = Infinity;
  const scheduler: Scheduler = {
    syncNow(now = false) {
      hasWork = true;
      urgent ||= now;
      if (now) quietUntil = 0;
      if (running) {
        again = true;
        return running;
      }
      return (running = loop());
    },
    later(ms) {
      hasWork = true;
      // A running loop sets its own timer from what is left when it ends.
      if (running) return;
      const at = Math.max(quietUntil, Date.now() + Math.min(MAX_TIMER_MS, Math.max(0, ms)));
      if (at >= timerAt) return;
      clearTimeout(timer);
      timerAt = at;
      timer = setTimeout(() => {
        timerAt = Infinity;
        scheduler.syncNow().catch(report);
      }, at - Date.now());
    },
    get hasWork() {
      return hasWork;
    },
    get quiet() {
      return quietUntil > Date.now();
    },
    idle: () => running ?? Promise.resolve(),
  };
  return scheduler;
}
