/**
 * One contract for every store: memoryStore, and redisStore on node-redis
 * (RESP2 and RESP3) and on ioredis, each against its own real redis-server.
 * Then what only Redis has (two stores on one Redis, a restarted Redis, a
 * Redis gone) and what only the memory store has (restore, onChange).
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FeedEntry, type FeedNotice, isStoreUnavailable, type OutboxStore, type StoredResponse } from '../../server/store.js';
import { memoryStore } from '../../server/stores/memory-store.js';
import { type RedisClient, toRedisCommands } from '../../server/stores/redis-commands.js';
import { redisStore } from '../../server/stores/redis-store.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

const LEASE_MS = 200;
const answer: StoredResponse = { status: 201, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"id":"1"}').toString('base64') };
const notice = (n: number): FeedNotice => ({ resource: 'todos', id: String(n), type: 'updated', version: n });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check` holds, polling; fails after `withinMs`. */
async function until(check: () => boolean | Promise<boolean>, withinMs = 5_000, what = 'condition') {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${withinMs} ms`);
    await sleep(20);
  }
}

interface Connected {
  client: RedisClient;
  close(): Promise<void>;
}
const CLIENTS: Record<string, (url: string) => Promise<Connected>> = {
  'node-redis': async (url) => {
    const client = createClient({ url });
    client.on('error', () => {});
    await client.connect();
    return { client, close: async () => client.destroy() };
  },
  'node-redis RESP3': async (url) => {
    const client = createClient({ url, RESP: 3 });
    client.on('error', () => {});
    await client.connect();
    return { client, close: async () => client.destroy() };
  },
  ioredis: async (url) => {
    const client = new Redis(url);
    client.on('error', () => {});
    return { client, close: async () => client.disconnect() };
  },
};

/** Each test's stores, closed after it. */
const opened: Array<{ close(): Promise<void> }> = [];
const track = <T extends { close(): Promise<void> }>(thing: T) => (opened.push(thing), thing);
afterEach(async () => {
  await Promise.all(opened.splice(0).map((thing) => thing.close()));
});

/** The contract, given a way to make a store with nothing in it. */
function contract(fresh: () => OutboxStore) {
  it('claims a key once; the others see it running, then done with the answer and its fingerprint', async () => {
    const { idempotency } = fresh();
    const first = await idempotency.claim('k1', 'fp-a', 30_000);
    expect(first.state).toBe('claimed');
    expect(await idempotency.claim('k1', 'fp-b', 30_000)).toEqual({ state: 'running', fingerprint: 'fp-a' });
    const token = (first as { token: string }).token;
    expect(await idempotency.complete('k1', token, 'fp-a', answer, 60_000)).toBe(true);
    expect(await idempotency.claim('k1', 'fp-b', 30_000)).toEqual({ state: 'done', fingerprint: 'fp-a', response: answer });
    expect(await idempotency.claim('k2', 'fp-a', 30_000)).toMatchObject({ state: 'claimed' });
  });

  it('frees a key whose lease ran out, and keeps one that is renewed', async () => {
    const { idempotency } = fresh();
    await idempotency.claim('lapsed', 'fp', LEASE_MS);
    const kept = (await idempotency.claim('kept', 'fp', LEASE_MS)) as { token: string };
    const started = Date.now();
    while (Date.now() - started < LEASE_MS * 3) {
      expect(await idempotency.renew('kept', kept.token, LEASE_MS)).toBe(true);
      await sleep(LEASE_MS / 4);
    }
    expect(await idempotency.claim('kept', 'fp', LEASE_MS)).toEqual({ state: 'running', fingerprint: 'fp' });
    const again = await idempotency.claim('lapsed', 'fp-2', 30_000);
    expect(again.state).toBe('claimed');
    await until(async () => (await idempotency.claim('kept', 'fp-2', 30_000)).state === 'claimed', 2_000, 'the unrenewed lease to lapse');
    // The first holder lost it: its renew, answer and release touch nothing.
    expect(await idempotency.renew('kept', kept.token, LEASE_MS)).toBe(false);
    expect(await idempotency.complete('kept', kept.token, 'fp', answer, 60_000)).toBe(false);
    await idempotency.release('kept', kept.token);
    expect(await idempotency.claim('kept', 'fp-3', 30_000)).toEqual({ state: 'running', fingerprint: 'fp-2' });
  });

  it('completes and releases only with the token that holds the key', async () => {
    const { idempotency } = fresh();
    const { token } = (await idempotency.claim('k', 'fp', 30_000)) as { token: string };
    expect(await idempotency.complete('k', 'not-the-token', 'fp', answer, 60_000)).toBe(false);
    await idempotency.release('k', 'not-the-token');
    expect(await idempotency.claim('k', 'fp', 30_000)).toEqual({ state: 'running', fingerprint: 'fp' });
    await idempotency.release('k', token);
    expect(await idempotency.claim('k', 'fp', 30_000)).toMatchObject({ state: 'claimed' });
  });

  it('forgets a kept answer after its lifetime', async () => {
    const { idempotency } = fresh();
    const { token } = (await idempotency.claim('k', 'fp', 30_000)) as { token: string };
    await idempotency.complete('k', token, 'fp', answer, LEASE_MS);
    expect((await idempotency.claim('k', 'fp', 30_000)).state).toBe('done');
    await until(async () => (await idempotency.claim('k', 'fp', 30_000)).state === 'claimed', 2_000, 'the answer to expire');
  });

  it('appends notices with increasing cursors and reads them after a cursor, a page at a time', async () => {
    const { feed } = fresh();
    const start = await feed.head();
    expect(await feed.read(start, 10)).toEqual({ reset: false, notices: [], cursor: start, more: false });
    const cursors: string[] = [];
    for (let n = 1; n <= 5; n++) cursors.push(await feed.append(notice(n), 1000));
    expect(new Set(cursors).size).toBe(5);
    expect(await feed.head()).toBe(cursors[4]);
    const page = await feed.read(start, 2);
    expect(page).toEqual({ reset: false, notices: [1, 2].map((n) => ({ ...notice(n), cursor: cursors[n - 1] })), cursor: cursors[1], more: true });
    const rest = await feed.read(cursors[1]!, 10);
    expect(rest).toEqual({ reset: false, notices: [3, 4, 5].map((n) => ({ ...notice(n), cursor: cursors[n - 1] })), cursor: cursors[4], more: false });
    expect(await feed.read(cursors[4]!, 10)).toEqual({ reset: false, notices: [], cursor: cursors[4], more: false });
    // A notice without a version stays without one.
    const bare = await feed.append({ resource: 'todos', id: 'x', type: 'deleted' }, 1000);
    expect((await feed.read(cursors[4]!, 10)) as { notices: unknown }).toMatchObject({ notices: [{ resource: 'todos', id: 'x', type: 'deleted', cursor: bare }] });
  });

  it('resets a reader whose cursor is older than what is kept, or not a cursor at all', async () => {
    const { feed } = fresh();
    const start = await feed.head();
    const cursors: string[] = [];
    for (let n = 1; n <= 60; n++) cursors.push(await feed.append(notice(n), 10));
    const head = await feed.head();
    expect(await feed.read(start, 100)).toEqual({ reset: true, cursor: head });
    expect(await feed.read(cursors[0]!, 100)).toEqual({ reset: true, cursor: head });
    expect(await feed.read('not a cursor', 100)).toEqual({ reset: true, cursor: head });
    // About maxLength are kept: a reader a few notices behind goes on.
    const recent = await feed.read(cursors[54]!, 100);
    expect(recent).toEqual({ reset: false, notices: [56, 57, 58, 59, 60].map((n) => ({ ...notice(n), cursor: cursors[n - 1] })), cursor: head, more: false });
  });

  it('tells subscribers every notice appended after they subscribed, in cursor order, until they stop', async () => {
    const store = fresh();
    await store.feed.append(notice(0), 1000);
    const seen: FeedEntry[] = [];
    const stop = store.feed.subscribe((entry) => seen.push(entry));
    await store.feed.head(); // the subscription stands once a command sent after it has answered
    const cursors: string[] = [];
    for (let n = 1; n <= 20; n++) cursors.push(await store.feed.append(notice(n), 1000));
    await until(() => seen.length >= 20, 5_000, '20 notices delivered');
    expect(seen.map((entry) => entry.cursor)).toEqual(cursors);
    expect(seen[0]).toEqual({ ...notice(1), cursor: cursors[0] });
    stop();
    await store.feed.append(notice(21), 1000);
    await sleep(100);
    expect(seen).toHaveLength(20);
  });
}

describe('memoryStore', () => {
  contract(() => track(memoryStore()));

  it('carries on from toJSON(): the kept answers, the notices and their cursors', async () => {
    const before = memoryStore();
    const { token } = (await before.idempotency.claim('k', 'fp', 30_000)) as { token: string };
    await before.idempotency.complete('k', token, 'fp', answer, 60_000);
    const first = await before.feed.append(notice(1), 1000);
    const second = await before.feed.append(notice(2), 1000);
    const state = JSON.parse(JSON.stringify(before.toJSON()));
    await before.close();
    const after = track(memoryStore({ restore: state }));
    expect(await after.idempotency.claim('k', 'fp', 30_000)).toEqual({ state: 'done', fingerprint: 'fp', response: answer });
    expect(await after.feed.head()).toBe(second);
    expect(await after.feed.read(first, 10)).toEqual({ reset: false, notices: [{ ...notice(2), cursor: second }], cursor: second, more: false });
    // A cursor of another state (another process, a deleted file) is never taken for a position here.
    const other = track(memoryStore());
    expect(await other.feed.read(second, 10)).toEqual({ reset: true, cursor: await other.feed.head() });
    expect(() => memoryStore({ restore: { version: 2 } as never })).toThrow(expect.objectContaining({ code: 'invalid-store-state' }));
  });

  it('awaits onChange before a change is answered or seen, and undoes a claim it could not save', async () => {
    let saves = 0;
    let failing = false;
    let letGo: () => void = () => {};
    const store = track(
      memoryStore({
        onChange: () =>
          new Promise<void>((resolve, reject) => {
            saves += 1;
            if (failing) reject(new Error('disk full'));
            else letGo = resolve;
          }),
      }),
    );
    const seen: FeedEntry[] = [];
    store.feed.subscribe((entry) => seen.push(entry));
    const start = await store.feed.head();
    let appended: string | undefined;
    const appending = store.feed.append(notice(1), 1000).then((cursor) => (appended = cursor));
    await sleep(50);
    expect([saves, appended, seen.length, await store.feed.head()]).toEqual([1, undefined, 0, start]);
    letGo();
    await appending;
    expect(seen).toEqual([{ ...notice(1), cursor: appended }]);
    expect(await store.feed.head()).toBe(appended);
    failing = true;
    const refused = await store.idempotency.claim('k', 'fp', 30_000).catch((error: unknown) => error);
    expect(isStoreUnavailable(refused)).toBe(true);
    expect((refused as { code: string }).code).toBe('store-unavailable');
    failing = false;
    const claiming = store.idempotency.claim('k', 'fp', 30_000);
    await until(() => saves === 3, 1_000, 'the third save');
    letGo();
    expect((await claiming).state).toBe('claimed');
  });
});

describe.each(Object.keys(CLIENTS))('redisStore on %s', (kind) => {
  const connect = CLIENTS[kind]!;
  let redis: RedisServer;
  let shared: Connected;
  let prefixes = 0;
  beforeAll(async () => {
    redis = await startRedis();
    shared = await connect(redis.url);
    // Small stream nodes, so that MAXLEN ~ (which drops whole nodes only) trims within these tests.
    await toRedisCommands(shared.client).send(['CONFIG', 'SET', 'stream-node-max-entries', '10']);
  });
  afterAll(async () => {
    await shared?.close();
    await redis?.stop();
  });
  const storeOn = (client: RedisClient, prefix: string, commandTimeoutMs?: number) => track(redisStore(client, { prefix, commandTimeoutMs }));

  contract(() => storeOn(shared.client, `t${++prefixes}:`));

  it('delivers a notice appended through one store to subscribers of another, in order', async () => {
    const other = await connect(redis.url);
    track(other);
    const prefix = `t${++prefixes}:`;
    const [a, b] = [storeOn(shared.client, prefix), storeOn(other.client, prefix)];
    const seen: string[] = [];
    b.feed.subscribe((entry) => seen.push(entry.cursor));
    await b.feed.head();
    const cursors: string[] = [];
    for (let n = 1; n <= 10; n++) cursors.push(await (n % 3 === 0 ? b : a).feed.append(notice(n), 1000));
    await until(() => seen.length >= 10, 5_000, 'notices through A at B');
    expect(seen).toEqual(cursors);
    expect(await b.feed.read(cursors[4]!, 100)).toMatchObject({ reset: false, cursor: cursors[9] });
  });

  it('leaves Redis error replies as they are', async () => {
    const store = storeOn(shared.client, `t${++prefixes}:`);
    await toRedisCommands(shared.client).send(['SET', `t${prefixes}:feed`, 'a string']);
    const error = await store.feed.append(notice(1), 1000).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'ReplyError', message: expect.stringMatching(/^WRONGTYPE/) });
  });

  it('keeps its subscribers through a Redis restart on the same port, losing and repeating nothing', async () => {
    const own = await startRedis();
    let server: RedisServer | undefined = own;
    try {
      const connected = track(await connect(own.url));
      const store = storeOn(connected.client, 'restart:');
      const seen: string[] = [];
      store.feed.subscribe((entry) => seen.push(entry.id));
      await store.feed.head();
      await store.feed.append(notice(1), 1000);
      await until(() => seen.length === 1, 5_000, 'the first notice');
      await own.stop(true);
      server = await startRedis(own.port);
      // Wait for the client to be back (a read only: an append given up on could still run late on ioredis).
      await until(async () => (await store.feed.head().catch(() => undefined)) === '0-0', 15_000, 'the client to reconnect');
      for (let n = 2; n <= 4; n++) await store.feed.append(notice(n), 1000);
      // Soon, not only after a blocked read's deadline.
      await until(() => seen.length >= 4, 3_000, 'notices after the restart');
      await sleep(200);
      expect(seen).toEqual(['1', '2', '3', '4']);
      const closing = Date.now();
      await store.close();
      expect(Date.now() - closing).toBeLessThan(1_000);
    } finally {
      await server.stop(true);
    }
  });

  it('rejects with StoreUnavailableError within the timeout when Redis is gone', async () => {
    const own = await startRedis();
    const connected = track(await connect(own.url));
    const store = storeOn(connected.client, 'gone:', 300);
    const seen: FeedEntry[] = [];
    store.feed.subscribe((entry) => seen.push(entry));
    await store.feed.append(notice(1), 1000);
    await own.stop(true);
    for (const attempt of [() => store.idempotency.claim('k', 'fp', 30_000), () => store.feed.append(notice(2), 1000)]) {
      const started = Date.now();
      const error = await attempt().catch((caught: unknown) => caught);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(isStoreUnavailable(error)).toBe(true);
      expect(error).toMatchObject({ code: 'store-unavailable', message: expect.stringMatching(/Redis .*(SET|XADD)/) });
    }
  });
});

it('names what it accepts when given something that is no Redis client', () => {
  expect(() => redisStore({ get() {} } as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'unknown-redis-client' }));
});
