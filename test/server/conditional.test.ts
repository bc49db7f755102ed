/**
 * conditional() and strongEtag() on real servers (Express 5, Fastify 5, Hono 4,
 * node:http): ETags on reads, 304 for If-None-Match, 412 with the current
 * ETag for a lost update, in RFC 9110 §13.2.2's order — and how often the
 * handler ran.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conditional } from '../../server/conditional.js';
import { strongEtag } from '../../server/entity-tag.js';
import { idempotency } from '../../server/idempotency.js';
import { memoryStore } from '../../server/stores/memory-store.js';
import { type App, type AppReply, FRAMEWORKS, type Respond, startApp } from './support/frameworks.js';

describe('strongEtag', () => {
  it('is a quoted 27-character base64url digest, the same for the same bytes or the same JSON value', () => {
    const tag = strongEtag({ a: 1, b: [1, 2] });
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(strongEtag({ b: [1, 2], a: 1 })).toBe(tag);
    expect(strongEtag('{"a":1,"b":[1,2]}')).toBe(tag);
    expect(strongEtag(Buffer.from('{"a":1,"b":[1,2]}'))).toBe(tag);
    expect(strongEtag(new TextEncoder().encode('{"a":1,"b":[1,2]}'))).toBe(tag);
    expect(strongEtag({ a: 1, b: [2, 1] })).not.toBe(tag);
    expect(strongEtag('')).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(() => strongEtag(undefined)).toThrow(expect.objectContaining({ code: 'invalid-etag-value' }));
  });
});

const pathOf = (req: IncomingMessage | Request) => new URL(req.url ?? '/', 'http://local').pathname;

describe.each(FRAMEWORKS)('conditional() on %s', (framework) => {
  let app: App;
  let items: Map<string, unknown>;
  const tagOf = (id: string) => strongEtag(items.get(id));
  const respond: Respond = (seen): AppReply => {
    const id = seen.url.split('/')[2]!;
    if (seen.method === 'GET') {
      if (id === 'own') return { status: 200, headers: { etag: '"own-tag"' }, body: { own: true } };
      return items.has(id) ? { status: 200, body: items.get(id) } : { status: 404, body: { missing: id } };
    }
    if (seen.method === 'OPTIONS') return { status: 200, headers: { allow: 'GET, PUT, PATCH, DELETE' }, body: {} };
    if (seen.method === 'DELETE') return (items.delete(id), { status: 200, body: { deleted: id } });
    const created = !items.has(id);
    items.set(id, seen.body);
    return { status: created ? 201 : 200, headers: { etag: tagOf(id) }, body: seen.body };
  };
  const url = (id: string) => `${app.url}/items/${id}`;
  const write = (method: string, id: string, body: unknown, headers: Record<string, string>) =>
    fetch(url(id), { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    items = new Map<string, unknown>([['1', { title: 'milk', done: false }]]);
    // The tag is computed asynchronously, as a database read would be.
    const guard = conditional<IncomingMessage | Request>({ etag: async (req) => (items.has(pathOf(req).split('/')[2]!) ? tagOf(pathOf(req).split('/')[2]!) : undefined) });
    app = await startApp(framework, guard, respond);
  });
  afterAll(() => app.close());
  afterEach(() => void app.seen.splice(0));

  it('sends the strong ETag on a read, and keeps one the handler set itself', async () => {
    items.set('1', { title: 'milk', done: false });
    const res = await fetch(url('1'));
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(strongEtag({ title: 'milk', done: false }));
    items.set('own', {});
    expect((await fetch(url('own'))).headers.get('etag')).toBe('"own-tag"');
    const missing = await fetch(url('nope'));
    expect(missing.status).toBe(404);
    // No representation, no tag from us (Express adds its own weak one to any body it sends).
    expect(missing.headers.get('etag') ?? '').not.toMatch(/^"/);
    expect(app.seen).toHaveLength(3);
  });

  it('answers 304 with the ETag when If-None-Match matches (weakly, in a list, or *), without running the handler', async () => {
    const tag = tagOf('1');
    for (const ifNoneMatch of [tag, `W/${tag}`, `"other", ${tag}`, '*']) {
      const res = await fetch(url('1'), { headers: { 'if-none-match': ifNoneMatch } });
      expect([res.status, res.headers.get('etag'), await res.text()], ifNoneMatch).toEqual([304, tag, '']);
    }
    expect(app.seen).toHaveLength(0);
    const changed = await fetch(url('1'), { headers: { 'if-none-match': '"stale", W/"older"' } });
    expect([changed.status, changed.headers.get('etag')]).toEqual([200, tag]);
    expect(app.seen).toHaveLength(1);
  });

  it('answers a lost update 412 with the current ETag and leaves the item alone', async () => {
    const current = tagOf('1');
    for (const ifMatch of ['"stale"', `W/${current}`, '"a", "b"']) {
      const res = await write('PUT', '1', { title: 'eggs' }, { 'if-match': ifMatch });
      expect([res.status, res.headers.get('etag'), res.headers.get('content-type')], ifMatch).toEqual([412, current, 'application/problem+json']);
      expect(await res.json()).toMatchObject({ status: 412, code: 'precondition-failed', detail: expect.stringContaining('fetch it again') });
    }
    expect(app.seen).toHaveLength(0);
    expect(items.get('1')).toEqual({ title: 'milk', done: false });
  });

  it('lets a write through when If-Match holds (the tag, a list holding it, or * for an existing item)', async () => {
    const first = await write('PUT', '1', { title: 'bread' }, { 'if-match': tagOf('1') });
    expect([first.status, first.headers.get('etag')]).toEqual([200, strongEtag({ title: 'bread' })]);
    expect((await write('PATCH', '1', { title: 'jam' }, { 'if-match': `"x", ${tagOf('1')}` })).status).toBe(200);
    expect((await write('PUT', '1', { title: 'tea' }, { 'if-match': '*' })).status).toBe(200);
    expect(app.seen.map((s) => s.body)).toEqual([{ title: 'bread' }, { title: 'jam' }, { title: 'tea' }]);
  });

  it('answers 412 to If-Match on an item that does not exist, without an ETag', async () => {
    for (const ifMatch of ['*', '"anything"']) {
      const res = await write('DELETE', 'gone', {}, { 'if-match': ifMatch });
      expect([res.status, res.headers.get('etag')]).toEqual([412, null]);
      expect(await res.json()).toMatchObject({ detail: expect.stringContaining('does not exist') });
    }
    expect(app.seen).toHaveLength(0);
  });

  it('creates only when absent with If-None-Match: *', async () => {
    const created = await write('PUT', 'new', { title: 'new' }, { 'if-none-match': '*' });
    expect(created.status).toBe(201);
    const again = await write('PUT', 'new', { title: 'newer' }, { 'if-none-match': '*' });
    expect([again.status, again.headers.get('etag')]).toEqual([412, strongEtag({ title: 'new' })]);
    expect(app.seen).toHaveLength(1);
  });

  it('checks If-Match before If-None-Match (RFC 9110 §13.2.2)', async () => {
    const tag = tagOf('1');
    const failsFirst = await fetch(url('1'), { headers: { 'if-match': '"stale"', 'if-none-match': tag } });
    expect(failsFirst.status).toBe(412);
    const bothHold = await fetch(url('1'), { headers: { 'if-match': tag, 'if-none-match': tag } });
    expect(bothHold.status).toBe(304);
    expect(app.seen).toHaveLength(0);
  });

  it('leaves writes without preconditions, and OPTIONS, alone', async () => {
    expect((await write('POST', 'free', { n: 1 }, {})).status).toBe(201);
    const options = await fetch(url('1'), { method: 'OPTIONS', headers: { 'if-match': '"stale"' } });
    expect(options.status).not.toBe(412);
    expect(app.seen).toHaveLength(2);
  });
});

describe('conditional() after idempotency() (Express)', () => {
  let server: Server;
  let runs = 0;
  let item = { v: 1 };
  beforeAll(async () => {
    const app = express();
    app.use(idempotency({ store: memoryStore() }), express.json(), conditional({ etag: () => strongEtag(item) }));
    app.put('/item', (req, res) => {
      runs++;
      item = req.body;
      res.set('etag', strongEtag(item)).json(item);
    });
    app.get('/item', (_req, res) => void res.json(item));
    app.get('/broken', conditional({ etag: () => 'not-a-tag' }), (_req, res) => void res.json({}));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())));
  const base = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  it('gives a retried write its stored answer, not a 412 against the tag its first attempt changed', async () => {
    const before = strongEtag(item);
    const put = () =>
      fetch(`${base()}/item`, { method: 'PUT', headers: { 'content-type': 'application/json', 'if-match': before, 'idempotency-key': '"put-1"' }, body: '{"v":2}' });
    const first = await put();
    expect([first.status, first.headers.get('etag')]).toEqual([200, strongEtag({ v: 2 })]);
    const retry = await put();
    expect([retry.status, retry.headers.get('idempotent-replayed'), retry.headers.get('etag')]).toEqual([200, 'true', strongEtag({ v: 2 })]);
    expect(runs).toBe(1);
    // A different write with the old tag is a lost update.
    const other = await fetch(`${base()}/item`, { method: 'PUT', headers: { 'content-type': 'application/json', 'if-match': before }, body: '{"v":3}' });
    expect([other.status, other.headers.get('etag')]).toEqual([412, strongEtag({ v: 2 })]);
    expect(runs).toBe(1);
  });

  it('hands an etag() that returns no entity tag to the app as an error naming the fix', async () => {
    const res = await fetch(`${base()}/broken`);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('strongEtag(item)');
  });
});
