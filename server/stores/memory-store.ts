/**
 * The embedded store: one process, nothing to install. Everything lives in
 * this process's memory; `toJSON()` gives a plain-data snapshot an app can
 * save (the example keeps it in its data file) and pass back as `restore`.
 * `onChange` is awaited after each change (a claim, an answer kept, a key
 * released, a notice appended) before the caller hears of it, so what a
 * client was told is saved first.
 *
 * Leases and lifetimes run on the wall clock, so a lease saved by a process
 * that crashed mid-request frees its key `leaseMs` after it was taken, as on
 * Redis, not at once and not never.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type Claim,
  type FeedEntry,
  type FeedNotice,
  type FeedRead,
  type FeedStore,
  type IdempotencyStore,
  type OutboxStore,
  StoreUnavailableError,
  type StoredResponse,
} from '../store.js';

/** One idempotency key: a lease while `token` is set, a kept answer once `response` is. */
export interface MemoryKeyRecord {
  fingerprint: string;
  /** Epoch milliseconds after which the record is gone. */
  expiresAt: number;
  token?: string;
  response?: StoredResponse;
}

/** What `toJSON()` gives and `restore` takes: plain JSON data. */
export interface MemoryStoreState {
  version: 1;
  /** Names this feed's history; a cursor with another epoch is `reset`, never a wrong position. */
  epoch: string;
  /** Position of the newest notice (0 before the first). */
  last: number;
  /** The kept notices, oldest first; the newest is at position `last`. */
  notices: FeedNotice[];
  keys: Record<string, MemoryKeyRecord>;
}

export interface MemoryStoreOptions {
  /** A state `toJSON()` gave before (e.g. read back from a file). */
  restore?: MemoryStoreState;
  /** Awaited after each change; a rejection is reported as StoreUnavailableError and the change undone where it can be. */
  onChange?: () => void | Promise<void>;
  /** @internal Milliseconds since the epoch; tests move it. */
  clock?: () => number;
}

export type MemoryStore = OutboxStore & { toJSON(): MemoryStoreState };

const PRUNE_INTERVAL_MS = 60_000; // how often expired keys are dropped when nobody asks for them
const CURSOR = /^([0-9a-f]+)\.(\d+)$/;

function checkedState(state: MemoryStoreState): MemoryStoreState {
  const ok =
    state !== null &&
    typeof state === 'object' &&
    state.version === 1 &&
    typeof state.epoch === 'string' &&
    /^[0-9a-f]+$/.test(state.epoch) &&
    Number.isSafeInteger(state.last) &&
    Array.isArray(state.notices) &&
    state.notices.length <= state.last &&
    state.keys !== null &&
    typeof state.keys === 'object';
  if (ok) return state;
  throw Object.assign(
    new TypeError(
      'memoryStore({ restore }): the state is not one toJSON() gave (version 1 with epoch, last, notices and keys). Pass what toJSON() returned, or omit restore to start empty.',
    ),
    { code: 'invalid-store-state' },
  );
}

/** The in-memory store; see the file header for what `onChange` and `restore` promise. */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const clock = options.clock ?? Date.now;
  const restored = options.restore ? checkedState(options.restore) : undefined;
  const epoch = restored?.epoch ?? randomBytes(6).toString('hex');
  const notices: FeedNotice[] = restored ? restored.notices.map((notice) => ({ ...notice })) : [];
  const keys = new Map<string, MemoryKeyRecord>(Object.entries(restored?.keys ?? {}).map(([key, record]) => [key, { ...record }]));
  let last = restored?.last ?? 0;
  // Notices up to `published` are saved and visible (head, read, subscribers);
  // later ones wait for their onChange, so nobody sees a notice a crash could lose.
  let published = last;
  const listeners = new Set<(entry: FeedEntry) => void>();

  async function saved(what: string, undo?: () => void): Promise<void> {
    if (!options.onChange) return;
    try {
      await options.onChange();
    } catch (error) {
      undo?.();
      throw new StoreUnavailableError(
        `memoryStore: onChange rejected after ${what}, so it was not saved. Make onChange resolve once the state is stored (is the disk full or the file read-only?).`,
        {
          cause: error,
        },
      );
    }
  }

  /** The record for `key` unless its time is up (then it is dropped). */
  function live(key: string): MemoryKeyRecord | undefined {
    const record = keys.get(key);
    if (record && record.expiresAt <= clock()) {
      keys.delete(key);
      return undefined;
    }
    return record;
  }

  function prune() {
    const now = clock();
    for (const [key, record] of keys) if (record.expiresAt <= now) keys.delete(key);
  }
  const pruning = setInterval(prune, PRUNE_INTERVAL_MS);
  pruning.unref();

  /** Puts `key` back as it was before a change whose save failed, unless someone changed it since. */
  const restoreKey = (key: string, current: MemoryKeyRecord, before: MemoryKeyRecord | undefined) => () => {
    if (keys.get(key) !== current) return;
    if (before) keys.set(key, before);
    else keys.delete(key);
  };

  const idempotency: IdempotencyStore = {
    async claim(key, fingerprint, leaseMs): Promise<Claim> {
      const found = live(key);
      if (found?.response) return { state: 'done', fingerprint: found.fingerprint, response: found.response };
      if (found) return { state: 'running', fingerprint: found.fingerprint };
      const token = randomUUID();
      const record: MemoryKeyRecord = { fingerprint, token, expiresAt: clock() + leaseMs };
      keys.set(key, record);
      await saved(`claiming key ${key}`, restoreKey(key, record, undefined));
      return { state: 'claimed', token };
    },
    async renew(key, token, leaseMs) {
      const found = live(key);
      if (!found || found.response || found.token !== token) return false;
      // Not saved: a lease outlives its process only to free the key, and an older expiry frees it sooner.
      found.expiresAt = clock() + leaseMs;
      return true;
    },
    async complete(key, token, fingerprint, response, ttlMs) {
      const found = live(key);
      if (!found || found.response || found.token !== token) return false;
      const record: MemoryKeyRecord = { fingerprint, response, expiresAt: clock() + ttlMs };
      keys.set(key, record);
      await saved(`keeping the answer for key ${key}`, restoreKey(key, record, found));
      return true;
    },
    async release(key, token) {
      const found = live(key);
      if (!found || found.response || found.token !== token) return;
      keys.delete(key);
      // No undo: the saved lease frees the key on its own when it expires.
      await saved(`releasing key ${key}`);
    },
  };

  const cursorAt = (position: number) => `${epoch}.${position}`;
  const entryAt = (position: number): FeedEntry => ({ ...notices[notices.length - (last - position) - 1]!, cursor: cursorAt(position) });
  /** The position a cursor names, or undefined when this feed cannot continue from it. */
  function position(cursor: string): number | undefined {
    const match = CURSOR.exec(cursor);
    if (!match || match[1] !== epoch) return undefined;
    const n = Number(match[2]);
    // Older than the oldest kept notice's predecessor: something after it was trimmed.
    return n >= last - notices.length && n <= published ? n : undefined;
  }

  function deliverUpTo(upTo: number) {
    const from = published;
    if (upTo <= from) return;
    published = upTo;
    const targets = [...listeners];
    for (let n = from + 1; n <= upTo; n++) {
      if (n <= last - notices.length) continue; // trimmed while its save was pending
      const entry = entryAt(n);
      for (const listener of targets) {
        if (!listeners.has(listener)) continue; // unsubscribed by an earlier listener just now
        try {
          listener(entry);
        } catch (error) {
          // One failing listener must not starve the others nor crash the server.
          process.emitWarning(error instanceof Error ? error : String(error));
        }
      }
    }
  }

  const feed: FeedStore = {
    async append(notice, maxLength) {
      const { resource, id, type, version } = notice;
      notices.push(version === undefined ? { resource, id, type } : { resource, id, type, version });
      const at = (last += 1);
      if (notices.length > maxLength) notices.splice(0, notices.length - Math.max(1, maxLength));
      // No undo: later appends may already sit behind it; it is saved and sent with the next one.
      await saved(`appending a ${type} notice for ${resource}/${id}`);
      // Saves can finish out of order; the state saved with this one holds every earlier notice.
      deliverUpTo(at);
      return cursorAt(at);
    },
    async head() {
      return cursorAt(published);
    },
    async read(cursor, limit): Promise<FeedRead> {
      const from = position(cursor);
      if (from === undefined) return { reset: true, cursor: cursorAt(published) };
      const upTo = Math.min(published, from + Math.max(0, limit));
      const entries: FeedEntry[] = [];
      for (let n = from + 1; n <= upTo; n++) entries.push(entryAt(n));
      return { reset: false, notices: entries, cursor: cursorAt(upTo), more: upTo < published };
    },
    subscribe(listener) {
      // A wrapper, so the same function subscribed twice is two subscriptions.
      const own = (entry: FeedEntry) => listener(entry);
      listeners.add(own);
      return () => {
        listeners.delete(own);
      };
    },
  };

  return {
    idempotency,
    feed,
    async close() {
      clearInterval(pruning);
    },
    toJSON(): MemoryStoreState {
      prune();
      return {
        version: 1,
        epoch,
        last,
        notices: notices.map((notice) => ({ ...notice })),
        keys: Object.fromEntries([...keys].map(([key, record]) => [key, { ...record }])),
      };
    },
  };
}
