/**
 * The README's "Your server" snippets keep their promises when run as
 * written: on each server kind, a write sent twice with one Idempotency-Key
 * runs once and is answered twice alike, the cursor it carries is the id of
 * the stream's event and a `since` answer's notice, and ETags give 304 and
 * 412. Express also runs on redisStore with a node-redis client.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, type OutboxStore, redisStore } from '../../server/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { openEvents } from '../support/sse-reader.js';
import { README_FRAMEWORKS, type ReadmeApp, type ReadmeFramework, startReadmeApp } from './support/readme-apps.js';

/** Every request gives up after this long, so a hung server fails the test instead of the run. */
const REQUEST_TIMEOUT_MS = 5000;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const postTodo = (url: string, body: unknown, key: string) =>
  send(`${url}/api/todos`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });

const patchTodo = (url: string, id: string, body: unknown, ifMatch: string) =>
  send(`${url}/api/todos/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'if-match': ifMatch }, body: JSON.stringify(body) });

/** What a replay must repeat: the headers that describe the answer, and the answer. */
const described = (answer: Answer) => ({
  status: answer.status,
  text: answer.text,
  contentType: answer.headers.get('content-type'),
  etag: answer.headers.get('etag'),
  cursor: answer.headers.get('x-change-cursor'),
});

type StoreKind = 'memory' | 'redis';

const cases: Array<[ReadmeFramework, StoreKind]> = [...README_FRAMEWORKS.map((framework) => [framework, 'memory'] as [ReadmeFramework, StoreKind]), ['express', 'redis']];

let redis: RedisServer | undefined;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await redis?.stop();
});

async function storeOf(kind: StoreKind): Promise<OutboxStore> {
  if (kind === 'memory') return memoryStore();
  redis ??= await startRedis();
  const client = createClient({ url: redis.url });
  await client.connect();
  cleanups.push(() => client.destroy());
  return redisStore(client, { prefix: 'readme:' });
}

describe.each(cases)('the README snippet for %s on the %s store', (framework, kind) => {
  let app: ReadmeApp;
  let url: string;
  /** The first POST's answer, which the later tests work from. */
  let created: Answer;
  let todo: { id: string; title: string };

  beforeAll(async () => {
    const store = await storeOf(kind);
    cleanups.push(() => store.close());
    app = await startReadmeApp(framework, store);
    cleanups.push(() => app.close());
    url = app.url;
  });

  it('runs a write sent twice with one Idempotency-Key once; the stream and since carry its X-Change-Cursor', async () => {
    const reader = await openEvents(`${url}/api/changes/stream`);
    try {
      expect(reader.response.status).toBe(200);
      expect(reader.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      // The stream starts with the feed's head as its id: where a reconnect (and since) would continue.
      await reader.until((r) => r.lastEventId !== '');
      const head = reader.lastEventId;

      created = await postTodo(url, { title: 'milk' }, '"k1"');
      const replayed = await postTodo(url, { title: 'milk' }, '"k1"');

      expect(created.status).toBe(201);
      todo = JSON.parse(created.text);
      expect(todo).toMatchObject({ title: 'milk' });
      expect(app.ran.create).toBe(1);
      const cursor = created.headers.get('x-change-cursor');
      expect(cursor).toMatch(/\S/);
      expect(created.headers.get('etag')).toMatch(/^"[^"]+"$/);
      expect(created.headers.get('idempotent-replayed')).toBeNull();
      expect(created.headers.get('idempotency-key-supported')).toBe('?1');
      expect(described(replayed)).toEqual(described(created));
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');

      const notice = { resource: 'todos', id: todo.id, type: 'created', version: 1, cursor };
      await reader.until((r) => r.events.length > 0);
      expect(reader.events).toEqual([{ type: 'message', lastEventId: cursor, data: JSON.stringify(notice) }]);

      const since = await send(`${url}/api/changes?since=${encodeURIComponent(head)}`);
      expect(since.status).toBe(200);
      expect(JSON.parse(since.text)).toEqual({ notices: [notice], cursor });
    } finally {
      reader.close();
    }
  });

  it('answers the same key with another body 422, without running the handler', async () => {
    const other = await postTodo(url, { title: 'eggs' }, '"k1"');
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(app.ran.create).toBe(1);
  });

  it('answers a read with a matching If-None-Match 304, and a write with a stale If-Match 412', async () => {
    const etag = created.headers.get('etag')!;
    const read = await send(`${url}/api/todos/${todo.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(etag);
    expect(JSON.parse(read.text)).toEqual(todo);

    const unchanged = await send(`${url}/api/todos/${todo.id}`, { headers: { 'if-none-match': etag } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('etag')).toBe(etag);
    expect(unchanged.text).toBe('');

    const changed = await patchTodo(url, todo.id, { done: true }, etag);
    expect(changed.status).toBe(200);
    expect(JSON.parse(changed.text)).toEqual({ ...todo, done: true, version: 2 });
    const current = changed.headers.get('etag');
    expect(current).not.toBe(etag);
    expect(changed.headers.get('x-change-cursor')).not.toBe(created.headers.get('x-change-cursor'));
    expect(app.ran.update).toBe(1);

    const stale = await patchTodo(url, todo.id, { title: 'bread' }, etag);
    expect(stale.status).toBe(412);
    expect(stale.headers.get('etag')).toBe(current);
    expect(app.ran.update).toBe(1);
    expect(JSON.parse((await send(`${url}/api/todos/${todo.id}`)).text)).toEqual({ ...todo, done: true, version: 2 });
  });
});
