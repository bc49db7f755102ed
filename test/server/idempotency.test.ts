/**
 * idempotency() on real servers (Express 5, Fastify 5, Hono 4, node:http),
 * on the memory store and on a real redis-server, seen from a client: the
 * answers it gets and how often the app's handler ran.
 */
import type { IncomingMessage } from 'node:http';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fingerprint } from '../../server/fingerprint.js';
import { type IdempotencyOptions, idempotency } from '../../server/idempotency.js';
import { storeKeyOf } from '../../server/idempotency-lease.js';
import type { OutboxStore } from '../../server/store.js';
import { memoryStore } from '../../server/stores/memory-store.js';
import { redisStore } from '../../server/stores/redis-store.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type App, type AppReply, FRAMEWORKS, type Framework, gate, rawRequest, type Respond, startApp, userOf } from './support/frameworks.js';

type Options = Partial<IdempotencyOptions<IncomingMessage | Request>>;
const STORES = ['memory', 'redis'] as const;
const KEY = '"8e03978e-40d5-43e8-bc93-6894a57f9324"';
const JSON_TYPE = { 'content-type': 'application/json' };

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
let prefixes = 0;
beforeAll(async () => {
  redis = await startRedis();
  client = createClient({ url: redis.url });
  await client.connect();
});
afterAll(async () => {
  client.destroy();
  await redis.stop();
});

/** 201 with a cookie, a cursor and what the handler saw. */
const created: Respond = (seen) => ({
  status: 201,
  headers: { 'set-cookie': 'session=s3cret; HttpOnly', 'x-change-cursor': '42', location: '/items/1' },
  body: { got: seen.body, user: seen.user ?? null },
});

const post = (url: string, body: string, headers: Record<string, string> = {}, method = 'POST') =>
  fetch(url, { method, headers: { ...JSON_TYPE, 'idempotency-key': KEY, ...headers }, body });

describe.each(FRAMEWORKS.flatMap((framework) => STORES.map((store) => [framework, store] as const)))('%s on the %s store', (framework: Framework, kind) => {
  let app: App | undefined;
  let store: OutboxStore;
  const start = async (respond: Respond = created, options: Options = {}) => {
    store = kind === 'memory' ? memoryStore() : redisStore(client, { prefix: `t${++prefixes}:`, commandTimeoutMs: 1000 });
    const guard = idempotency<IncomingMessage | Request>({ store, scope: userOf, ...options });
    app = await startApp(framework, guard, respond);
    return app;
  };
  afterEach(async () => {
    vi.restoreAllMocks();
    await app?.close();
    await store?.close();
    app = undefined;
  });

  it('runs the handler once and replays its answer, without Set-Cookie', async () => {
    const { url, seen } = await start();
    const first = await post(`${url}/items`, '{"title":"milk"}');
    expect(first.status).toBe(201);
    expect(first.headers.get('set-cookie')).toBe('session=s3cret; HttpOnly');
    expect(first.headers.get('idempotency-key-supported')).toBe('?1');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const body = await first.json();
    expect(body).toEqual({ got: { title: 'milk' }, user: null });

    const again = await post(`${url}/items`, '{"title":"milk"}');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('idempotency-key-supported')).toBe('?1');
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(again.headers.get('x-change-cursor')).toBe('42');
    expect(again.headers.get('location')).toBe('/items/1');
    expect(again.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await again.json()).toEqual(body);
    expect(seen).toHaveLength(1);
  });

  it('answers 409 with Retry-After while the first request runs, then the stored answer', async () => {
    const held = gate();
    const { url, seen } = await start(async (s) => (await held.promise, created(s)));
    const first = post(`${url}/items`, '{"n":1}');
    await expect.poll(() => seen.length).toBe(1);
    const during = await post(`${url}/items`, '{"n":1}');
    expect(during.status).toBe(409);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(during.headers.get('content-type')).toBe('application/problem+json');
    expect(await during.json()).toMatchObject({ status: 409, code: 'idempotency-key-in-flight' });
    held.open();
    expect((await first).status).toBe(201);
    expect((await post(`${url}/items`, '{"n":1}')).headers.get('idempotent-replayed')).toBe('true');
    expect(seen).toHaveLength(1);
  });

  it('answers 422 for the same key with another body, path or method', async () => {
    const { url, seen } = await start();
    expect((await post(`${url}/items`, '{"n":1}')).status).toBe(201);
    for (const reuse of [post(`${url}/items`, '{"n":2}'), post(`${url}/other`, '{"n":1}'), post(`${url}/items`, '{"n":1}', {}, 'PUT')]) {
      const res = await reuse;
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({ code: 'idempotency-key-reused', detail: expect.stringContaining('new Idempotency-Key') });
    }
    expect(seen).toHaveLength(1);
  });

  it('takes the same JSON value spelled differently as the same request', async () => {
    const { url, seen } = await start();
    expect((await post(`${url}/items`, '{"a":1,"b":{"c":[1,2],"d":null}}')).status).toBe(201);
    const again = await post(`${url}/items`, '{ "b": { "d": null, "c": [1, 2] },\n "a": 1.0 }');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(seen).toHaveLength(1);
  });

  it('answers 400 to a malformed key, two keys, a list, or one over 255 characters; 255 is fine', async () => {
    const { url, seen } = await start();
    const cases: [[string, string][], string][] = [
      [[['idempotency-key', '"unterminated']], 'idempotency-key-malformed'],
      [[['idempotency-key', '""']], 'idempotency-key-malformed'],
      [
        [
          ['idempotency-key', '"a"'],
          ['idempotency-key', '"b"'],
        ],
        'idempotency-key-multiple',
      ],
      [[['idempotency-key', '"a", "b"']], 'idempotency-key-multiple'],
      [[['idempotency-key', `"${'k'.repeat(256)}"`]], 'idempotency-key-too-long'],
    ];
    for (const [headers, code] of cases) {
      const res = await rawRequest(`${url}/items`, 'POST', [['content-type', 'application/json'], ...headers], '{}');
      expect(res.status, code).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(res.body)).toMatchObject({ status: 400, code, detail: expect.stringMatching(/Idempotency-Key/) });
    }
    expect(seen).toHaveLength(0);
    expect((await post(`${url}/items`, '{}', { 'idempotency-key': `"${'k'.repeat(255)}"` })).status).toBe(201);
    expect(seen).toHaveLength(1);
  });

  it('when required, answers 400 to a write without a key; reads pass untouched, marked as supported', async () => {
    const { url, seen } = await start(created, { required: true });
    const missing = await fetch(`${url}/items`, { method: 'POST', headers: JSON_TYPE, body: '{}' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'idempotency-key-missing' });
    expect(seen).toHaveLength(0);
    const read = await fetch(`${url}/items?x=1`);
    expect(read.status).toBe(201);
    expect(read.headers.get('idempotency-key-supported')).toBe('?1');
    expect(seen).toHaveLength(1);
  });

  it('passes a write without a key through when not required, every time', async () => {
    const { url, seen } = await start();
    for (let i = 0; i < 2; i++) expect((await fetch(`${url}/items`, { method: 'POST', headers: JSON_TYPE, body: '{"n":1}' })).status).toBe(201);
    expect(seen.map((s) => s.body)).toEqual([{ n: 1 }, { n: 1 }]);
  });

  it('accepts a bare token as the same key as its quoted form, and refuses it when strict', async () => {
    const { url, seen } = await start();
    expect((await post(`${url}/items`, '{}', { 'idempotency-key': '8e03978e-40d5-43e8-bc93-6894a57f9324' })).status).toBe(201);
    expect((await post(`${url}/items`, '{}')).headers.get('idempotent-replayed')).toBe('true');
    expect(seen).toHaveLength(1);
    await app!.close();
    await store.close();
    const strict = await start(created, { strict: true });
    const res = await post(`${strict.url}/items`, '{}', { 'idempotency-key': 'abc' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'idempotency-key-unquoted', detail: expect.stringContaining('"abc"') });
    expect(strict.seen).toHaveLength(0);
  });

  it('keeps two users with the same key apart', async () => {
    const { url, seen } = await start();
    const alice = await post(`${url}/items`, '{"by":"alice"}', { 'x-user': 'alice' });
    const bob = await post(`${url}/items`, '{"by":"bob"}', { 'x-user': 'bob' });
    expect(await alice.json()).toEqual({ got: { by: 'alice' }, user: 'alice' });
    expect(await bob.json()).toEqual({ got: { by: 'bob' }, user: 'bob' });
    const aliceAgain = await post(`${url}/items`, '{"by":"alice"}', { 'x-user': 'alice' });
    expect(aliceAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(await aliceAgain.json()).toEqual({ got: { by: 'alice' }, user: 'alice' });
    expect(seen.map((s) => s.user)).toEqual(['alice', 'bob']);
  });

  it('frees a key whose request crashed once its lease lapses, and then runs it once', async () => {
    const { url, seen } = await start(created, { leaseSeconds: 1 });
    const body = '{"n":1}';
    const print = fingerprint({ method: 'POST', target: '/items', contentType: 'application/json', body: { bytes: Buffer.from(body) } });
    // A request that claimed the key and died: claimed, never completed nor released.
    expect((await store.idempotency.claim(storeKeyOf(undefined, KEY.slice(1, -1)), print, 600)).state).toBe('claimed');
    expect((await post(`${url}/items`, body)).status).toBe(409);
    await new Promise((r) => setTimeout(r, 700));
    expect((await post(`${url}/items`, body)).status).toBe(201);
    expect((await post(`${url}/items`, body)).headers.get('idempotent-replayed')).toBe('true');
    expect(seen).toHaveLength(1);
  });

  it('frees the key after a 5xx answer or a thrown handler, so the retry runs', async () => {
    const outcomes: (() => AppReply)[] = [
      () => ({ status: 503, body: { error: 'down' } }),
      () => {
        throw new Error('handler blew up');
      },
      () => ({ status: 201, body: { ok: true } }),
    ];
    // The thrown error is reported (by the framework, or by the middleware on node:http); quiet here.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { url, seen } = await start(async () => outcomes[seen.length - 1]!());
    expect((await post(`${url}/items`, '{}')).status).toBe(503);
    expect((await post(`${url}/items`, '{}')).status).toBe(500);
    const third = await post(`${url}/items`, '{}');
    expect(third.status).toBe(201);
    expect(third.headers.get('idempotent-replayed')).toBeNull();
    expect((await post(`${url}/items`, '{}')).headers.get('idempotent-replayed')).toBe('true');
    expect(seen).toHaveLength(3);
  });

  it('answers 413 to a body over maxBodyBytes, runs nothing and stores nothing', async () => {
    const { url, seen } = await start(created, { maxBodyBytes: 1024 });
    const res = await post(`${url}/items`, JSON.stringify({ text: 'x'.repeat(4096) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'request-body-too-large', detail: expect.stringContaining('1024 bytes') });
    expect(seen).toHaveLength(0);
    // Nothing kept under the key: the store lets a new claim have it.
    expect((await store.idempotency.claim(storeKeyOf(undefined, KEY.slice(1, -1)), 'probe', 1000)).state).toBe('claimed');
  });
});
