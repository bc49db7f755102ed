/**
 * changeFeed on the memory store and on a real redis-server, served by
 * node:http, Express 5 and Hono (@hono/node-server), read as a browser
 * would: an event stream over fetch, and `since` as JSON.
 */
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeFeed, changeFeed, type ChangeFeedOptions, SINCE_PAGE } from '../../server/change-feed.js';
import type { FeedStore, OutboxStore } from '../../server/store.js';
import { memoryStore } from '../../server/stores/memory-store.js';
import { redisStore } from '../../server/stores/redis-store.js';
import { FRAMEWORKS, type Framework, serveFeed as serve } from '../support/feed-servers.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type EventReader, openEvents } from '../support/sse-reader.js';

type Kind = 'memory' | 'redis';

let redis: RedisServer;
let prefixes = 0;
const cleanups: (() => unknown)[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => redis?.stop());

/** The feed on a real server, closed after the test. */
async function serveFeed(framework: Framework, feed: ChangeFeed): Promise<string> {
  const served = await serve(framework, feed);
  cleanups.push(served.close);
  return served.url;
}

interface Slowness {
  /** Each read's answer comes that much later (a slow store). */
  readDelayMs?: number;
  /** Each notice reaches subscribers that much later (a lagging subscription). */
  deliveryDelayMs?: number;
}

/** A store whose feed counts its live subscriptions. */
async function makeStore(kind: Kind, prefix = `feed-test-${++prefixes}:`, { readDelayMs = 0, deliveryDelayMs = 0 }: Slowness = {}) {
  let base: OutboxStore;
  if (kind === 'memory') base = memoryStore();
  else {
    const client = createClient({ url: redis.url });
    await client.connect();
    base = redisStore(client, { prefix });
    cleanups.push(() => client.close());
  }
  cleanups.push(() => base.close());
  let live = 0;
  const feed: FeedStore = {
    ...base.feed,
    async read(cursor, limit) {
      const read = await base.feed.read(cursor, limit);
      await new Promise((r) => setTimeout(r, readDelayMs));
      return read;
    },
    subscribe(listener) {
      live++;
      const stop = base.feed.subscribe((entry) => (deliveryDelayMs ? setTimeout(() => listener(entry), deliveryDelayMs) : listener(entry)));
      return () => {
        live--;
        stop();
      };
    },
  };
  return { store: { feed } as Pick<OutboxStore, 'feed'>, subscriptions: () => live };
}

async function setup(kind: Kind, framework: Framework = 'node:http', options: Omit<ChangeFeedOptions, 'store'> = {}, slowness: Slowness = {}) {
  const { store, subscriptions } = await makeStore(kind, undefined, slowness);
  const feed = changeFeed({ store, ...options });
  cleanups.push(() => feed.close());
  const url = await serveFeed(framework, feed);
  const readers: EventReader[] = [];
  cleanups.push(() => readers.forEach((r) => r.close()));
  return {
    feed,
    subscriptions,
    stream: async (lastEventId?: string) => {
      const reader = await openEvents(`${url}/changes/stream`, lastEventId);
      readers.push(reader);
      return reader;
    },
    since: async (cursor?: string) => {
      const response = await fetch(`${url}/changes${cursor === undefined ? '' : `?since=${encodeURIComponent(cursor)}`}`);
      return { status: response.status, headers: Object.fromEntries(response.headers), body: (await response.json()) as Record<string, unknown> };
    },
  };
}

const todo = (i: number) => ({ resource: 'todos', id: String(i), type: 'updated' as const, version: i });
const cursorsOf = (reader: EventReader) => reader.events.filter((e) => e.type === 'message').map((e) => e.lastEventId);
/** Appends `n` notices in order; resolves with their cursors. */
async function publishMany(feed: ChangeFeed, n: number, first = 0): Promise<string[]> {
  const cursors: string[] = [];
  for (let i = first; i < first + n; i++) cursors.push(await feed.publish(todo(i)));
  return cursors;
}

describe.each(['memory', 'redis'] as const)('changeFeed on the %s store', (kind) => {
  it.each(FRAMEWORKS)('%s: each notice is an event whose id is its cursor; since continues from a cursor', async (framework) => {
    const { feed, stream, since } = await setup(kind, framework);
    const reader = await stream();
    expect(reader.response.status).toBe(200);
    expect(reader.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(reader.response.headers.get('cache-control')).toBe('no-store');
    expect(reader.response.headers.get('x-accel-buffering')).toBe('no');
    const head = (await since()).body.cursor as string;
    // The stream starts at the feed's position: a reconnect would continue from it.
    await reader.until((r) => r.retryMs === 1000 && r.lastEventId === head);

    const first = await feed.publish({ resource: 'todos', id: 7, type: 'created' });
    const second = await feed.publish({ resource: 'todos', id: '7', type: 'updated', version: 2 });
    expect(second).not.toBe(first);
    await reader.until((r) => r.events.length === 2);
    expect(reader.events).toEqual([
      { type: 'message', lastEventId: first, data: JSON.stringify({ resource: 'todos', id: '7', type: 'created', cursor: first }) },
      { type: 'message', lastEventId: second, data: JSON.stringify({ resource: 'todos', id: '7', type: 'updated', version: 2, cursor: second }) },
    ]);

    const answer = await since(head);
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.body).toEqual({
      notices: [
        { resource: 'todos', id: '7', type: 'created', cursor: first },
        { resource: 'todos', id: '7', type: 'updated', version: 2, cursor: second },
      ],
      cursor: second,
    });
    expect((await since(first)).body).toEqual({ notices: [{ resource: 'todos', id: '7', type: 'updated', version: 2, cursor: second }], cursor: second });
    // Without a cursor: where the feed stands, and nothing before it.
    expect((await since()).body).toEqual({ notices: [], cursor: second });
  });

  it('Last-Event-ID: what was missed first, then live notices, each once and in order, while publishes race the catch-up', async () => {
    // Reads answer late, so notices published meanwhile are held for the clients catching up.
    const { feed, stream } = await setup(kind, 'hono', {}, { readDelayMs: 25 });
    const all = await publishMany(feed, 30);
    // Publishing goes on while clients connect and catch up.
    const racing = publishMany(feed, 300, 30).then((cursors) => all.push(...cursors));
    const starts = [0, 12, 29];
    const readers = await Promise.all(starts.map((i) => stream(all[i])));
    await new Promise((r) => setTimeout(r, 5));
    const late = await stream(all[29]);
    await racing;
    all.push(await feed.publish(todo(330)));
    for (const [n, reader] of [...readers, late].entries()) {
      await reader.until((r) => r.lastEventId === all.at(-1));
      expect(cursorsOf(reader)).toEqual(all.slice((starts[n] ?? 29) + 1));
    }
  });

  it('a Last-Event-ID older than what is kept gets one reset event, then the notices from its cursor on; since says reset too', async () => {
    const { feed, stream, since } = await setup(kind, 'express', { maxLength: 5 });
    // Redis trims (MAXLEN ~) whole stream nodes of 100 entries: enough notices that the first are gone.
    const cursors = await publishMany(feed, 250);
    const reader = await stream(cursors[0]);
    const head = cursors.at(-1)!;
    await reader.until((r) => r.events.length === 1);
    expect(reader.events[0]).toEqual({ type: 'reset', lastEventId: head, data: JSON.stringify({ reset: true, cursor: head }) });
    const next = await feed.publish(todo(999));
    await reader.until((r) => r.events.length === 2);
    expect(cursorsOf(reader)).toEqual([next]);

    expect((await since(cursors[0])).body).toEqual({ reset: true, cursor: next });
    expect((await since('not-a-cursor')).body).toEqual({ reset: true, cursor: next });
    // A Last-Event-ID that is no cursor of this feed is reset the same way.
    const stranger = await stream('x'.repeat(2000));
    await stranger.until((r) => r.events.length === 1);
    expect(stranger.events[0]).toMatchObject({ type: 'reset', lastEventId: next });
  });

  it(`since answers at most ${SINCE_PAGE} notices with "more": true, and the rest from its cursor`, async () => {
    const { feed, since } = await setup(kind);
    const start = (await since()).body.cursor as string;
    const cursors: string[] = [];
    for (let batch = 0; batch < 1005; batch += 201)
      cursors.push(...(await Promise.all(Array.from({ length: Math.min(201, 1005 - batch) }, (_, i) => feed.publish(todo(batch + i))))));
    const page = await since(start);
    expect(page.body.more).toBe(true);
    expect((page.body.notices as { cursor: string }[]).length).toBe(SINCE_PAGE);
    const rest = await since(page.body.cursor as string);
    expect(rest.body.more).toBeUndefined();
    const seen = [...(page.body.notices as { cursor: string }[]), ...(rest.body.notices as { cursor: string }[])].map((n) => n.cursor);
    expect(new Set(seen)).toEqual(new Set(cursors));
    expect(rest.body.cursor).toBe(seen.at(-1));
  });

  it('a malformed notice is refused with code invalid-notice naming its field, and nothing is appended', async () => {
    const { feed, since, stream } = await setup(kind);
    const head = (await since()).body.cursor as string;
    const reader = await stream();
    const refused = (notice: unknown) =>
      feed.publish(notice as never).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(await refused({ resource: 'todos', id: '1', type: 'changed' })).toMatchObject({
      name: 'InvalidNoticeError',
      code: 'invalid-notice',
      field: 'type',
      message: expect.stringContaining('type must be one of created, updated, deleted; got "changed"'),
    });
    expect(await refused({ resource: 'todos', id: '1', type: 'created', cursor: 'c9' })).toMatchObject({ code: 'invalid-notice', field: 'cursor' });
    expect(await refused({ resource: 'todos', id: '../admin', type: 'created' })).toMatchObject({ code: 'invalid-notice', field: 'id' });
    expect(await refused({ resource: '', id: '1', type: 'created' })).toMatchObject({ code: 'invalid-notice', field: 'resource' });
    expect(await refused({ resource: 'todos', id: '1', type: 'created', title: 'data' })).toMatchObject({ code: 'invalid-notice', field: 'title' });
    expect(await refused(null)).toBeInstanceOf(TypeError);
    expect((await since(head)).body).toEqual({ notices: [], cursor: head });
    await new Promise((r) => setTimeout(r, 100));
    expect(reader.events).toEqual([]);
  });

  it('sends heartbeats as comment lines', async () => {
    const { stream } = await setup(kind, 'hono', { heartbeatSeconds: 0.2 });
    const reader = await stream();
    await reader.until((r) => r.comments.length >= 2, 3000);
    expect(reader.comments[0]).toBe('heartbeat');
    expect(reader.events).toEqual([]);
  });

  it.each(['node:http', 'hono'] as const)('%s: one store subscription for every client; a client that leaves is dropped; close() ends every stream', async (framework) => {
    const { feed, stream, subscriptions } = await setup(kind, framework);
    const readers = await Promise.all([stream(), stream(), stream()]);
    expect(subscriptions()).toBe(1);
    readers[0]!.close();
    const cursor = await feed.publish(todo(1));
    for (const reader of readers.slice(1)) await reader.until((r) => r.lastEventId === cursor);
    readers[1]!.close();
    readers[2]!.close();
    // No client left: the feed stops following the store.
    await readers[2]!.until(() => subscriptions() === 0);
    const more = await Promise.all([stream(), stream()]);
    expect(subscriptions()).toBe(1);
    feed.close();
    for (const reader of more) await reader.until((r) => r.ended);
    expect(subscriptions()).toBe(0);
  });
});

describe('two instances on one Redis', () => {
  it("a notice published on A reaches B's stream clients; B's since and Last-Event-ID continue A's cursors", async () => {
    const prefix = `feed-test-shared-${++prefixes}:`;
    const a = changeFeed({ store: (await makeStore('redis', prefix)).store });
    const b = changeFeed({ store: (await makeStore('redis', prefix)).store });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const bUrl = await serveFeed('express', b);
    const onB = await openEvents(`${bUrl}/changes/stream`);
    cleanups.push(() => onB.close());
    await onB.until((r) => r.lastEventId !== '');
    const first = await a.publish(todo(1));
    const second = await a.publish(todo(2));
    await onB.until((r) => r.events.length === 2);
    expect(cursorsOf(onB)).toEqual([first, second]);

    const answer = (await (await fetch(`${bUrl}/changes?since=${encodeURIComponent(first)}`)).json()) as { notices: { cursor: string }[] };
    expect(answer).toEqual({ notices: [{ ...todo(2), cursor: second }], cursor: second });
    const resumed = await openEvents(`${bUrl}/changes/stream`, first);
    cleanups.push(() => resumed.close());
    const third = await a.publish(todo(3));
    await resumed.until((r) => r.lastEventId === third);
    expect(cursorsOf(resumed)).toEqual([second, third]);
  });

  it("a client whose Last-Event-ID is ahead of this instance's feed gets nothing twice while the feed catches up", async () => {
    const prefix = `feed-test-shared-${++prefixes}:`;
    const a = changeFeed({ store: (await makeStore('redis', prefix)).store });
    // B hears of each notice 300 ms late, so it stands behind what a client saw on A.
    const b = changeFeed({ store: (await makeStore('redis', prefix, { deliveryDelayMs: 300 })).store });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const bUrl = await serveFeed('hono', b);
    const fresh = await openEvents(`${bUrl}/changes/stream`);
    cleanups.push(() => fresh.close());
    await fresh.until((r) => r.lastEventId !== '');
    const cursors = await publishMany(a, 5);
    const ahead = await openEvents(`${bUrl}/changes/stream`, cursors[2]);
    cleanups.push(() => ahead.close());
    await ahead.until((r) => r.lastEventId === cursors[4]);
    cursors.push(await a.publish(todo(5)));
    await ahead.until((r) => r.lastEventId === cursors[5]);
    await fresh.until((r) => r.lastEventId === cursors[5]);
    expect(cursorsOf(ahead)).toEqual(cursors.slice(3));
    expect(cursorsOf(fresh)).toEqual(cursors);
  });
});
