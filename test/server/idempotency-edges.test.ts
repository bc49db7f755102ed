/**
 * idempotency() where it meets the rest of an app: the body the handler
 * gets (with and without Express's JSON parser), answers written in every
 * way Express and node allow, bodies that never end, a store that fails
 * before or after the handler, a handler slower than its lease, a client
 * that leaves before its answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { idempotency } from '../../server/idempotency.js';
import { type OutboxStore, StoreUnavailableError } from '../../server/store.js';
import { memoryStore } from '../../server/stores/memory-store.js';
import { redisStore } from '../../server/stores/redis-store.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type App, FRAMEWORKS, gate, type Respond, type Seen, startApp } from './support/frameworks.js';

const KEY = '"0b9c7a52-3f4e-4d1a-9a3e-2f6d8c1b5e70"';
const post = (url: string, body: BodyInit, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': KEY, ...headers }, body, signal });
const ok: Respond = (seen) => ({ status: 201, body: { got: seen.body ?? null } });

const apps: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  vi.restoreAllMocks();
});
const start = async (...args: Parameters<typeof startApp>) => {
  const app = await startApp(...args);
  apps.push(app);
  return app;
};

describe('the body the handler gets (Express 5)', () => {
  it.each(['none', 'after', 'before'] as const)('with express.json() %s the middleware: req.body parsed, req.rawBody where it read the stream', async (json) => {
    const app = await start('express', idempotency({ store: memoryStore() }), ok, { json });
    expect((await post(`${app.url}/items`, '{"title":"milk"}')).status).toBe(201);
    expect((await post(`${app.url}/items`, '{ "title": "milk" }')).headers.get('idempotent-replayed')).toBe('true');
    // The parser before the middleware read the stream (no rawBody); otherwise the middleware did.
    expect(app.seen).toEqual([{ method: 'POST', url: '/items', user: undefined, body: { title: 'milk' }, rawBody: json === 'before' ? undefined : '{"title":"milk"}' }]);
    // Without a key the middleware leaves the stream to the parser.
    expect((await fetch(`${app.url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":2}' })).status).toBe(201);
    expect(app.seen[1]).toMatchObject({ body: json === 'none' ? undefined : { n: 2 }, rawBody: undefined });
  });

  it('leaves req.body undefined for JSON that does not parse, and a later express.json() does not fail on it', async () => {
    const app = await start('express', idempotency({ store: memoryStore() }), ok, { json: 'after' });
    const res = await post(`${app.url}/items`, '{"title":');
    expect(res.status).toBe(201);
    expect(app.seen).toMatchObject([{ body: undefined, rawBody: '{"title":' }]);
  });
});

describe('a body read before the middleware and not handed over', () => {
  it('answers 500 naming the fix, and the handler does not run', async () => {
    let runs = 0;
    const app = express();
    app.use((req, _res, next) => void req.on('end', () => next()).resume());
    app.use(idempotency({ store: memoryStore() }));
    app.use((_req, res) => void (runs++, res.json({})));
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apps.push({ close: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())) });
    const res = await post(`http://127.0.0.1:${(server.address() as AddressInfo).port}/items`, '{"n":1}');
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: 'request-body-already-read', detail: expect.stringContaining('req.rawBody') });
    expect(runs).toBe(0);
  });
});

describe('answers written every way node and Express allow', () => {
  let server: Server;
  let runs = 0;
  beforeAll(async () => {
    const app = express();
    app.use(idempotency({ store: memoryStore() }));
    app.post('/end', (_req, res) => void (runs++, res.status(202).end()));
    app.post('/send', (_req, res) => void (runs++, res.type('text/plain').send('made it')));
    app.post('/chunks', (_req, res) => {
      runs++;
      res.setHeader('content-type', 'text/csv');
      res.write('a,b\n');
      res.write(Buffer.from('1,2\n'));
      setTimeout(() => res.end('3,4\n'), 20);
    });
    app.post('/head', (_req, res) => void (runs++, res.writeHead(200, 'Fine', ['content-type', 'text/plain', 'etag', '"v1"']).end('raw head')));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())));

  it.each([
    ['/end', 202, '', null],
    ['/send', 200, 'made it', 'text/plain; charset=utf-8'],
    ['/chunks', 200, 'a,b\n1,2\n3,4\n', 'text/csv'],
    ['/head', 200, 'raw head', 'text/plain'],
  ])('%s: the client gets it once, then the same again as a replay', async (path, status, body, type) => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    const before = runs;
    for (const replayed of [null, 'true']) {
      const res = await post(url, '{}', { 'idempotency-key': `"answer${path}"` });
      expect([res.status, await res.text(), res.headers.get('content-type'), res.headers.get('idempotent-replayed')]).toEqual([status, body, type, replayed]);
    }
    expect(runs - before).toBe(1);
  });
});

describe('options', () => {
  it.each(FRAMEWORKS)('%s: keepHeaders adds headers to what a replay carries, never Set-Cookie', async (framework) => {
    const respond: Respond = () => ({ status: 201, headers: { 'x-trace': 't-1', 'x-other': 'o', 'set-cookie': 'a=b' }, body: {} });
    const app = await start(framework, idempotency({ store: memoryStore(), keepHeaders: ['X-Trace', 'Set-Cookie'] }), respond);
    await post(`${app.url}/items`, '{}');
    const replay = await post(`${app.url}/items`, '{}');
    expect([replay.headers.get('idempotent-replayed'), replay.headers.get('x-trace'), replay.headers.get('x-other'), replay.headers.get('set-cookie')]).toEqual([
      'true',
      't-1',
      null,
      null,
    ]);
    expect(app.seen).toHaveLength(1);
  });

  it.each(FRAMEWORKS)('%s: a scope() that throws reaches the app as an error, and the handler does not run', async (framework) => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const scope = () => {
      throw new Error('no session');
    };
    const app = await start(framework, idempotency({ store: memoryStore(), scope }), ok);
    expect((await post(`${app.url}/items`, '{}')).status).toBe(500);
    expect(app.seen).toHaveLength(0);
  });
});

describe('a body that never ends', () => {
  it.each(FRAMEWORKS.filter((f) => f !== 'fastify'))('%s: 413 past maxBodyBytes, the connection closed, the handler not run', async (framework) => {
    // Fastify reads the body itself before its hooks run: there its own bodyLimit is what stops it.
    const app = await start(framework, idempotency({ store: memoryStore(), maxBodyBytes: 1024 }), ok);
    let sent = 0; // bytes
    const endless = new ReadableStream<Uint8Array>({ pull: (c) => (c.enqueue(new Uint8Array(65_536)), void (sent += 65_536)) });
    const res = await fetch(`${app.url}/items`, { method: 'POST', headers: { 'idempotency-key': KEY }, body: endless, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.json()).toMatchObject({ code: 'request-body-too-large' });
    expect(sent).toBeLessThan(64 * 1_048_576);
    expect(app.seen).toHaveLength(0);
  });
});

describe('a store that fails', () => {
  let redis: RedisServer;
  let client: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = await startRedis();
    client = createClient({ url: redis.url, socket: { reconnectStrategy: 50 } });
    client.on('error', () => undefined); // reconnect attempts while Redis is gone
    await client.connect();
  });
  afterAll(async () => {
    client.destroy();
    await redis.stop(true);
  });

  it('Redis gone before the claim: 503 with Retry-After on every server kind, the handler never run', async () => {
    const store = redisStore(client, { prefix: 'gone:', commandTimeoutMs: 300 });
    const running = await Promise.all(FRAMEWORKS.map((f) => start(f, idempotency({ store }), ok)));
    expect((await post(`${running[0]!.url}/items`, '{}', { 'idempotency-key': '"before"' })).status).toBe(201);
    await redis.stop(true);
    for (const app of running) {
      const res = await post(`${app.url}/items`, '{}');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ code: 'store-unavailable', detail: expect.stringContaining('same Idempotency-Key') });
    }
    expect(running.map((app) => app.seen.length)).toEqual([1, 0, 0, 0]);
    await store.close();
  });

  it.each(FRAMEWORKS)('%s: the store fails after the handler ran: the client still gets its answer, and the key is named in one log line', async (framework) => {
    const store = memoryStore();
    const failing: Pick<OutboxStore, 'idempotency'> = {
      idempotency: { ...store.idempotency, complete: () => Promise.reject(new StoreUnavailableError('redis: connection lost')) },
    };
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const app = await start(framework, idempotency({ store: failing }), ok);
    const res = await post(`${app.url}/items`, '{"n":1}');
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ got: { n: 1 } });
    expect(log).toHaveBeenCalledTimes(1);
    expect(String(log.mock.calls[0]![0])).toContain(KEY);
    expect(app.seen).toHaveLength(1);
  });
});

describe('time', () => {
  const stores: OutboxStore[] = [];
  let redis: RedisServer;
  let client: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = await startRedis();
    client = createClient({ url: redis.url });
    await client.connect();
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    client.destroy();
    await redis.stop();
  });
  const storeOf = (kind: string) => {
    const store = kind === 'memory' ? memoryStore() : redisStore(client, { prefix: `time${stores.length}:` });
    stores.push(store);
    return store;
  };

  it.each(['memory', 'redis'])('%s: a handler slower than its lease keeps the key by renewing it', async (kind) => {
    const held = gate();
    const app = await start('node', idempotency({ store: storeOf(kind), leaseSeconds: 0.3 }), async (s) => (await held.promise, ok(s)));
    const first = post(`${app.url}/items`, '{}');
    await new Promise((r) => setTimeout(r, 900)); // three leases
    expect((await post(`${app.url}/items`, '{}')).status).toBe(409);
    held.open();
    expect((await first).status).toBe(201);
    expect(app.seen).toHaveLength(1);
  });

  it.each(['express', 'hono'] as const)('%s: a client that leaves before its answer: the handler finishes, its answer is kept for the retry', async (framework) => {
    const held = gate();
    const app: App = await start(framework, idempotency({ store: storeOf('memory') }), async (s: Seen) => (await held.promise, ok(s)));
    const leaving = new AbortController();
    const first = post(`${app.url}/items`, '{"n":1}', {}, leaving.signal).catch((error: Error) => error.name);
    await expect.poll(() => app.seen.length).toBe(1);
    leaving.abort();
    expect(await first).toBe('AbortError');
    expect((await post(`${app.url}/items`, '{"n":1}')).status).toBe(409);
    held.open();
    await expect.poll(async () => (await post(`${app.url}/items`, '{"n":1}')).headers.get('idempotent-replayed')).toBe('true');
    expect(app.seen).toHaveLength(1);
  });
});
