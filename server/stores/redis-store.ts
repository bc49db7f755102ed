/**
 * The store for many processes: any number of them share one Redis
 * (Redis ≥ 7.0 or Valkey: `SET … NX GET`, exclusive XRANGE bounds and
 * XINFO's max-deleted-entry-id are 7.0's). Keys, under `prefix`:
 *
 *   <prefix>key:<hash>  a string, JSON: {token, fingerprint} while a request
 *                       holds it (PX = its lease), {fingerprint, response}
 *                       once answered (PX = the answer's lifetime)
 *   <prefix>feed        a Stream; each entry has one field `n`, the notice's
 *                       JSON (one field keeps a version's type, 3 vs "3",
 *                       and the notice whole); the entry id is its cursor
 *
 * A lease is only renewed, completed or released by the token that took it,
 * in one Lua script each, so a request whose lease ran out can never
 * overwrite the one that claimed the key after it.
 */
import { randomUUID } from 'node:crypto';
import type { Claim, FeedEntry, FeedNotice, FeedRead, FeedStore, IdempotencyStore, OutboxStore, StoredResponse } from '../store.js';
import { type GuardedCommands, guarded, type RedisClient, toRedisCommands } from './redis-commands.js';

export interface RedisStoreOptions {
  /** Put before every key this store uses. @default 'outbox:' */
  prefix?: string;
  /** How long a command may go unanswered before it fails with StoreUnavailableError, in milliseconds. @default 2000 */
  commandTimeoutMs?: number;
}

const BLOCK_MS = 5_000; // how long one XREAD waits for news before asking again
const READ_BATCH = 1_000; // entries one XREAD may bring
const RETRY_MIN_MS = 100; // first pause after the read loop lost Redis; doubles up to RETRY_MAX_MS
const RETRY_MAX_MS = 5_000;
const START = '0-0'; // the cursor before the first entry
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

const RENEW = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const COMPLETE = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`;
const RELEASE = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const idParts = (id: string) => {
  const match = STREAM_ID.exec(id);
  return match ? [BigInt(match[1]!), BigInt(match[2]!)] : undefined;
};
/** Stream ids in order: negative when `a` comes first. */
function compareIds(a: string, b: string): number {
  const [x, y] = [idParts(a)!, idParts(b)!];
  const difference = x[0]! - y[0]! || x[1]! - y[1]!;
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

/** A RESP map as a Map: RESP2 and ioredis give a flat [key, value, …] array, RESP3 clients an object or a Map. */
function asMap(reply: unknown): Map<string, unknown> {
  if (reply instanceof Map) return new Map([...reply].map(([key, value]) => [String(key), value]));
  if (Array.isArray(reply)) {
    const map = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]);
    return map;
  }
  return new Map(Object.entries((reply ?? {}) as Record<string, unknown>));
}

/** Stream entries ([id, [field, value, …]]) as feed entries; an entry this store did not write is skipped. */
function feedEntries(reply: unknown): FeedEntry[] {
  const entries: FeedEntry[] = [];
  for (const item of Array.isArray(reply) ? reply : []) {
    const [id, fields] = item as [unknown, unknown];
    try {
      const { resource, id: itemId, type, version } = JSON.parse(String(asMap(fields).get('n'))) as FeedNotice;
      entries.push({ resource, id: itemId, type, ...(version === undefined ? {} : { version }), cursor: String(id) });
    } catch {
      // Not JSON: written by something else sharing the key; its id still moves the reader on (see `read`).
    }
  }
  return entries;
}

/** The last id among raw stream entries, whether or not they decoded. */
const lastId = (reply: unknown) => (Array.isArray(reply) && reply.length > 0 ? String((reply[reply.length - 1] as unknown[])[0]) : undefined);

/** The one stream's entries in an XREAD reply: [[name, entries]] (RESP2), [name, entries] (ioredis RESP3), or a map. */
function xreadEntries(reply: unknown): unknown {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : reply[1];
  return [...asMap(reply).values()][0];
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** The store on Redis; see the file header for what it keeps where. */
export function redisStore(client: RedisClient, { prefix = 'outbox:', commandTimeoutMs = 2_000 }: RedisStoreOptions = {}): OutboxStore {
  const redis = guarded(toRedisCommands(client), commandTimeoutMs);
  const keyOf = (key: string) => `${prefix}key:${key}`;
  const feedKey = `${prefix}feed`;

  const idempotency: IdempotencyStore = {
    async claim(key, fingerprint, leaseMs): Promise<Claim> {
      const token = randomUUID();
      // With GET, SET NX answers what holds the key instead of taking it: one round trip, atomic.
      const held = await redis.send(['SET', keyOf(key), JSON.stringify({ token, fingerprint }), 'NX', 'PX', String(Math.ceil(leaseMs)), 'GET']);
      if (held === null || held === undefined) return { state: 'claimed', token };
      const record = JSON.parse(String(held)) as { fingerprint: string; response?: StoredResponse };
      return record.response ? { state: 'done', fingerprint: record.fingerprint, response: record.response } : { state: 'running', fingerprint: record.fingerprint };
    },
    async renew(key, token, leaseMs) {
      return Number(await redis.send(['EVAL', RENEW, '1', keyOf(key), token, String(Math.ceil(leaseMs))])) === 1;
    },
    async complete(key, token, fingerprint, response, ttlMs) {
      const record = JSON.stringify({ fingerprint, response });
      return Number(await redis.send(['EVAL', COMPLETE, '1', keyOf(key), token, record, String(Math.ceil(ttlMs))])) === 1;
    },
    async release(key, token) {
      await redis.send(['EVAL', RELEASE, '1', keyOf(key), token]);
    },
  };

  const head = async () => lastId(await redis.send(['XREVRANGE', feedKey, '+', '-', 'COUNT', '1'])) ?? START;

  /**
   * Whether a reader at `cursor` missed nothing the stream let go of. Asked
   * after XRANGE: what is let go of only grows, so a cursor still safe now
   * was safe when XRANGE ran (a trim in between resets, never skips).
   */
  async function continues(cursor: string): Promise<{ ok: boolean; last: string }> {
    let info: Map<string, unknown>;
    try {
      info = asMap(await redis.send(['XINFO', 'STREAM', feedKey]));
    } catch (error) {
      // No stream (never written, or lost with a Redis that kept no data): only the starting cursor is known.
      if (/no such key/i.test((error as Error | null)?.message ?? '')) return { ok: cursor === START, last: START };
      throw error;
    }
    const last = String(info.get('last-generated-id') ?? START);
    if (cursor === last) return { ok: true, last };
    if (compareIds(cursor, last) > 0) return { ok: false, last };
    // XDEL moves max-deleted-entry-id; trimming does not (it is for consumer-group lag), so the first kept id tells.
    const deleted = String(info.get('max-deleted-entry-id') ?? START);
    if (compareIds(deleted, cursor) > 0) return { ok: false, last };
    const firstEntry = info.get('first-entry');
    if (Array.isArray(firstEntry) && compareIds(cursor, String(firstEntry[0])) >= 0) return { ok: true, last };
    // Before the first kept id: the start of a stream that never let go of anything, else a cursor this
    // stream let go of or never gave (another Redis, a stream lost and written anew).
    return { ok: cursor === START && Number(info.get('entries-added')) === Number(info.get('length')), last };
  }

  const listeners = new Set<(entry: FeedEntry) => void>();
  let stopLoop: (() => Promise<void>) | undefined;

  function deliver(entry: FeedEntry) {
    for (const listener of [...listeners]) {
      if (!listeners.has(listener)) continue; // unsubscribed by an earlier listener just now
      try {
        listener(entry);
      } catch (error) {
        // One failing listener must not starve the others nor stop the loop.
        process.emitWarning(error instanceof Error ? error : String(error));
      }
    }
  }

  /**
   * The one XREAD BLOCK loop of this store: on a connection of its own, from
   * the newest id when it starts, always from the last id it saw after that,
   * so a lost connection or a restarted Redis costs time, never an entry.
   */
  function startLoop(): () => Promise<void> {
    const stop = new AbortController();
    let connection: Awaited<ReturnType<GuardedCommands['duplicate']>> | undefined;
    // Closing the connection ends a blocked XREAD at once rather than after BLOCK_MS.
    stop.signal.addEventListener('abort', () => void connection?.close(), { once: true });
    // Asked at once, on the caller's connection, so it runs before any read() the caller sends next.
    const from = head();
    from.catch(() => {}); // asked again below
    const loop = (async () => {
      let position: string | undefined;
      let pauseMs = 0;
      while (!stop.signal.aborted) {
        try {
          position ??= await (pauseMs === 0 ? from : head());
          connection ??= await redis.duplicate();
          if (stop.signal.aborted) break;
          const args = ['XREAD', 'COUNT', String(READ_BATCH), 'BLOCK', String(BLOCK_MS), 'STREAMS', feedKey, position];
          const reply = xreadEntries(await connection.send(args, { extraMs: BLOCK_MS }));
          if (stop.signal.aborted) break;
          for (const entry of feedEntries(reply)) deliver(entry);
          position = lastId(reply) ?? position;
          pauseMs = 0;
        } catch {
          // Redis away or restarting: a fresh connection after a pause; `position` stays, so nothing is lost.
          void connection?.close();
          connection = undefined;
          pauseMs = Math.min(Math.max(pauseMs * 2, RETRY_MIN_MS), RETRY_MAX_MS);
          await sleep(pauseMs, stop.signal);
        }
      }
      await connection?.close();
    })();
    return () => {
      stop.abort();
      return loop;
    };
  }

  const feed: FeedStore = {
    async append(notice, maxLength) {
      const { resource, id, type, version } = notice;
      const fields = JSON.stringify(version === undefined ? { resource, id, type } : { resource, id, type, version });
      return String(await redis.send(['XADD', feedKey, 'MAXLEN', '~', String(Math.max(1, Math.floor(maxLength))), '*', 'n', fields]));
    },
    head,
    async read(cursor, limit): Promise<FeedRead> {
      if (!idParts(cursor)) return { reset: true, cursor: await head() };
      const count = Math.max(0, Math.floor(limit));
      const page = count === 0 ? [] : ((await redis.send(['XRANGE', feedKey, `(${cursor}`, '+', 'COUNT', String(count + 1)])) as unknown[]);
      const { ok, last } = await continues(cursor);
      if (!ok) return { reset: true, cursor: last };
      const kept = page.slice(0, count);
      const more = page.length > count || (count === 0 && compareIds(cursor, last) < 0);
      return { reset: false, notices: feedEntries(kept), cursor: lastId(kept) ?? cursor, more };
    },
    subscribe(listener) {
      // A wrapper, so the same function subscribed twice is two subscriptions.
      const own = (entry: FeedEntry) => listener(entry);
      listeners.add(own);
      stopLoop ??= startLoop();
      return () => {
        listeners.delete(own);
        if (listeners.size === 0) {
          void stopLoop?.();
          stopLoop = undefined;
        }
      };
    },
  };

  return {
    idempotency,
    feed,
    async close() {
      listeners.clear();
      const stopping = stopLoop?.();
      stopLoop = undefined;
      await stopping;
    },
  };
}
