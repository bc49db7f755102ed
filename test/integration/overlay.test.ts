/**
 * Read-your-writes against a REST server that assigns integer ids and ETags
 * (test/support/rest-store.ts behind MSW): what the app reads while its
 * writes wait, the ids the server gives, and each conflict policy.
 */
import { HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../common/messages.js';
import { ask, entries, installWorker, listenAsPage, ORIGIN, outboxSuite, send, status, syncNow, until } from '../support/outbox-harness.js';
import { createRestStore } from '../support/rest-store.js';
import type { ServiceWorkerScope } from '../support/sw-scope.js';

const resource = (name: string, extra: Record<string, unknown> = {}) => ({
  collection: `/api/${name}`,
  item: `/api/${name}/:id`,
  ids: 'server',
  updatedAtField: 'updatedAt',
  ...extra,
});
const routes = (name: string, conflict: string, strategy = 'network-first') => [
  { match: `/api/${name}`, methods: ['GET'], cache: { strategy } },
  { match: `/api/${name}/:id`, methods: ['GET'], cache: { strategy } },
  { match: `/api/${name}`, methods: ['POST'], queue: {}, resource: name },
  { match: `/api/${name}/:id`, methods: ['PUT', 'PATCH', 'DELETE'], queue: { conflict }, resource: name },
];
const manifest = {
  version: 1,
  routes: [
    ...routes('todos', 'manual'),
    ...routes('serverwins', 'server-wins'),
    ...routes('clientwins', 'client-wins'),
    ...routes('newest', 'newest-wins'),
    ...routes('notes', 'manual', 'stale-while-revalidate'),
    ...routes('live', 'manual', 'network-only'),
    ...routes('wrapped', 'manual'),
    ...routes('assets', 'manual', 'cache-first'),
    { match: '/api/plain/:id', methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: '/api/plain/:id', methods: ['PATCH'], queue: { detect: 'none' }, resource: 'plain' },
  ],
  resources: {
    todos: resource('todos', { pendingField: '_pending' }),
    serverwins: resource('serverwins'),
    clientwins: resource('clientwins'),
    newest: resource('newest'),
    notes: resource('notes', { ids: 'client-uuid' }),
    live: resource('live'),
    wrapped: resource('wrapped', { itemsPath: 'data.items' }),
    assets: resource('assets'),
    plain: resource('plain'),
  },
};

let scope: ServiceWorkerScope;
const net = outboxSuite(manifest, () => scope);
const rest = createRestStore();
let wrap = false;

beforeEach(() => {
  rest.reset();
  wrap = false;
  net.behave(async (request) => {
    const url = new URL(request.url);
    const r = rest.handle({ method: request.method, url: url.pathname + url.search, headers: Object.fromEntries(request.headers), body: await request.text() });
    // The `wrapped` collection is served inside an object, as many APIs do.
    const body = wrap && url.pathname === '/api/wrapped' && request.method === 'GET' ? JSON.stringify({ data: { items: JSON.parse(r.body) }, total: -1 }) : r.body;
    return new HttpResponse(r.status === 204 || r.status === 304 ? null : body, { status: r.status, headers: r.headers });
  });
});

const json = (method: string, value: unknown) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
async function read(path: string) {
  const { response } = await scope.fetch(`${ORIGIN}${path}`);
  const text = await response!.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response!.status, pending: response!.headers.get('x-outbox-pending'), body };
}
const writesTo = (prefix: string) => rest.log.filter((r) => r.method !== 'GET' && r.url.startsWith(prefix)).map((r) => `${r.method} ${r.url}`);
/** What pages hear from the worker installed next (see listenAsPage). */
let listening: OutboxEvent[] | undefined;
const heard = (): OutboxEvent[] => (listening = []);

describe('read-your-writes', () => {
  it('list and item GETs show local creates, edits and deletes, with X-Outbox-Pending and the pending field', async () => {
    scope = await installWorker();
    const milk = rest.seed('todos', { title: 'milk', done: false });
    const eggs = rest.seed('todos', { title: 'eggs', done: false });
    expect(await read('/api/todos')).toMatchObject({ status: 200, pending: null, body: [milk, eggs] });
    await read(`/api/todos/${milk.id}`);

    net.online = false;
    const created = await send(scope, '/api/todos', json('POST', { title: 'bread', done: false }));
    expect(created.status).toBe(202);
    const local = JSON.parse(created.text!) as { id: string; title: string };
    expect(local).toMatchObject({ title: 'bread', done: false, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const patched = await send(scope, `/api/todos/${milk.id}`, json('PATCH', { done: true }));
    expect(patched.status).toBe(202);
    expect(JSON.parse(patched.text!)).toMatchObject({ ...milk, done: true });
    const deleted = await send(scope, `/api/todos/${eggs.id}`, { method: 'DELETE' });
    expect(deleted).toMatchObject({ status: 202, text: '' });

    expect(await read('/api/todos')).toEqual({
      status: 200,
      pending: '3',
      body: [
        { ...milk, done: true, _pending: true },
        { title: 'bread', done: false, id: local.id, _pending: true },
      ],
    });
    expect(await read(`/api/todos/${milk.id}`)).toMatchObject({ status: 200, pending: '1', body: { ...milk, done: true, _pending: true } });
    expect(await read(`/api/todos/${local.id}`)).toMatchObject({ status: 200, pending: '1', body: { title: 'bread', id: local.id } });
    expect(await read(`/api/todos/${eggs.id}`)).toMatchObject({ status: 404, pending: '1', body: { error: 'not-found' } });
    // A filtered variant gets the overlay too (the filter is the server's; local creates are listed).
    expect((await read('/api/todos?done=false')).pending).toBe('3');

    net.online = true;
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0);
    // The server ends as the app saw it offline, and the cache shows the server's state.
    const final = rest.items('todos');
    expect(final.map(({ title, done }) => ({ title, done }))).toEqual([
      { title: 'milk', done: true },
      { title: 'bread', done: false },
    ]);
    await until(async () => JSON.stringify((await read('/api/todos')).body) === JSON.stringify(final));
    expect((await read('/api/todos')).pending).toBeNull();
  });

  it('a create → update → delete chain queued offline reaches the server with the id it assigned', async () => {
    scope = await installWorker();
    rest.seed('todos', { title: 'first' });
    await read('/api/todos');
    net.online = false;
    const a = JSON.parse((await send(scope, '/api/todos', json('POST', { title: 'a' }))).text!) as { id: string };
    await send(scope, `/api/todos/${a.id}`, json('PATCH', { title: 'a2' }));
    await send(scope, `/api/todos/${a.id}`, json('PUT', { title: 'a3', parent: a.id }));
    const b = JSON.parse((await send(scope, '/api/todos', json('POST', { title: 'b' }))).text!) as { id: string };
    await send(scope, `/api/todos/${b.id}`, json('PATCH', { title: 'b2' }));
    await send(scope, `/api/todos/${b.id}`, { method: 'DELETE' });
    expect((await entries(scope)).map((e) => e.itemId)).toEqual([a.id, a.id, a.id, b.id, b.id, b.id]);

    net.online = true;
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0);
    // Per item, in order, with the server's ids; the local id is nowhere.
    const sent = writesTo('/api/todos');
    const itemA = sent.filter((r) => r.includes('/2') || r === 'POST /api/todos').slice(0, 3);
    expect(sent.filter((r) => r.endsWith('/2'))).toEqual(['PATCH /api/todos/2', 'PUT /api/todos/2']);
    expect(sent.filter((r) => r.endsWith('/3'))).toEqual(['PATCH /api/todos/3', 'DELETE /api/todos/3']);
    expect(itemA[0]).toBe('POST /api/todos');
    expect(rest.log.some((r) => r.url.includes(a.id) || r.body.includes(a.id) || r.url.includes(b.id))).toBe(false);
    expect(rest.items('todos').map(({ id, title, parent }) => ({ id, title, parent }))).toEqual([
      { id: 1, title: 'first', parent: undefined },
      { id: 2, title: 'a3', parent: 2 },
    ]);
    // The app may still hold a local id: it reads (and writes) the server's item.
    expect(await read(`/api/todos/${a.id}`)).toMatchObject({ status: 200, body: { id: 2, title: 'a3' } });
    expect((await send(scope, `/api/todos/${a.id}`, json('PATCH', { title: 'a4' }))).status).toBe(200);
    expect(writesTo('/api/todos').at(-1)).toBe('PATCH /api/todos/2');
  });

  it('works with stale-while-revalidate, and with network-only when there is no base at all', async () => {
    scope = await installWorker();
    const n = rest.seed('notes', { text: 'old' });
    await read('/api/notes');
    net.online = false;
    const created = JSON.parse((await send(scope, '/api/notes', json('POST', { text: 'new' }))).text!) as { id: string };
    // client-uuid: the id was put in the body that is stored and sent.
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await read('/api/notes')).toMatchObject({ pending: '1', body: [n, { text: 'new', id: created.id }] });
    // Never read online (network-only): the collection starts empty, the item is there by its id.
    const live = JSON.parse((await send(scope, '/api/live', json('POST', { text: 'x' }))).text!) as { id: string };
    expect(await read('/api/live')).toMatchObject({ status: 200, pending: '1', body: [{ text: 'x', id: live.id }] });
    expect(await read(`/api/live/${live.id}`)).toMatchObject({ status: 200, body: { text: 'x', id: live.id } });
    net.online = true;
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0);
    expect(rest.items('notes').map((x) => x.text)).toEqual(['old', 'new']);
    expect(rest.log.find((r) => r.method === 'POST' && r.url === '/api/notes')!.body).toContain(created.id);
  });

  it('answers a PATCH to an item the app only read in the list with the merged item, found in the cached list', async () => {
    scope = await installWorker();
    const a = rest.seed('todos', { title: 'milk', done: false });
    await read('/api/todos');
    net.online = false;
    const patch = await send(scope, `/api/todos/${a.id}`, json('PATCH', { title: 'oat milk' }));
    expect(patch.status).toBe(202);
    expect(JSON.parse(patch.text!)).toMatchObject({ id: a.id, title: 'oat milk', done: false });
  });

  it('works with cache-first, and answers a queued PUT with the item it makes', async () => {
    // Seeded before the install, which caches this exact-path cache-first list for a first visit.
    const a = rest.seed('assets', { name: 'logo', size: 1 });
    scope = await installWorker();
    await read('/api/assets');
    await read(`/api/assets/${a.id}`);
    net.online = false;
    const put = await send(scope, `/api/assets/${a.id}`, json('PUT', { name: 'logo', size: 2 }));
    expect(put.status).toBe(202);
    // The id as the cached item types it (a number), though the URL gave a string.
    expect(JSON.parse(put.text!)).toEqual({ name: 'logo', size: 2, id: a.id });
    // cache-first: the base is the cached list, and the PUT shows on it.
    expect(await read('/api/assets')).toMatchObject({ pending: '1', body: [{ name: 'logo', size: 2, id: a.id }] });
  });

  it('If-Match only from a strong cached ETag, and never where the route says detect: none', async () => {
    scope = await installWorker();
    const item = rest.seed('todos', { title: 'x' });
    const plain = rest.seed('plain', { title: 'p' });
    // A weak ETag cannot be used in If-Match.
    net.behave(async (request) => {
      const url = new URL(request.url);
      const r = rest.handle({ method: request.method, url: url.pathname, headers: Object.fromEntries(request.headers), body: await request.text() });
      return new HttpResponse(r.status === 204 ? null : r.body, {
        status: r.status,
        headers: { ...r.headers, ...(r.headers.etag && url.pathname.startsWith('/api/todos') ? { etag: `W/${r.headers.etag}` } : {}) },
      });
    });
    await read(`/api/todos/${item.id}`);
    await read(`/api/plain/${plain.id}`);
    net.online = false;
    await send(scope, `/api/todos/${item.id}`, json('PATCH', { title: 'y' }));
    await send(scope, `/api/plain/${plain.id}`, json('PATCH', { title: 'q' }));
    net.online = true;
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0);
    expect(rest.log.filter((r) => r.method === 'PATCH').map((r) => [r.url, r.ifMatch])).toEqual([
      [`/api/todos/${item.id}`, undefined],
      [`/api/plain/${plain.id}`, undefined],
    ]);
  });

  it('a wrapped collection is overlaid in place; a base that is not JSON, or not the declared shape, is served untouched', async () => {
    scope = await installWorker();
    wrap = true;
    const w = rest.seed('wrapped', { t: 1 });
    await read('/api/wrapped');
    net.online = false;
    await send(scope, `/api/wrapped/${w.id}`, { method: 'DELETE' });
    expect(await read('/api/wrapped')).toMatchObject({ pending: '1', body: { data: { items: [] }, total: -1 } });

    net.online = true;
    wrap = false; // now a bare array: not the declared shape
    net.behave(async (request) => (request.method === 'GET' ? HttpResponse.json([w]) : new HttpResponse(null, { status: 503 })));
    expect(await read('/api/wrapped')).toMatchObject({ status: 200, pending: null, body: [w] });
    net.behave(async (request) =>
      request.method === 'GET' ? new HttpResponse('<p>maintenance</p>', { headers: { 'content-type': 'text/html' } }) : new HttpResponse(null, { status: 503 }),
    );
    expect(await read('/api/wrapped')).toMatchObject({ status: 200, pending: null, body: '<p>maintenance</p>' });
    expect(await read(`/api/wrapped/${w.id}`)).toMatchObject({ status: 200, body: '<p>maintenance</p>' });
    expect((await status(scope)).pending).toBe(1);
  });
});

describe('conflicts', () => {
  /** An item read online (cached with its ETag), changed offline, and changed on the server meanwhile. */
  async function conflicted(name: string, change: Record<string, unknown>, serverChange: Record<string, unknown>, serverAt?: number) {
    scope = await installWorker();
    if (listening) listenAsPage(scope, listening);
    listening = undefined;
    const item = rest.seed(name, { title: 'original', n: 0 });
    await read(`/api/${name}/${item.id}`);
    await read(`/api/${name}`);
    net.online = false;
    const r = await send(scope, `/api/${name}/${item.id}`, json('PATCH', change));
    expect(r.status).toBe(202);
    rest.edit(name, item.id as number, serverChange, serverAt);
    net.online = true;
    return item;
  }

  it('a queued change carries If-Match with the cached ETag; manual parks it, tells the page both versions, and holds its item', async () => {
    const events = heard();
    const item = await conflicted('todos', { title: 'mine' }, { title: 'theirs' });
    // A second change to the same item, queued behind the first.
    net.online = false;
    await send(scope, `/api/todos/${item.id}`, json('PATCH', { n: 1 }));
    net.online = true;
    await syncNow(scope);
    const [first] = rest.log.filter((r) => r.method === 'PATCH');
    expect(first!.ifMatch).toBe(`"${item.id}-v1"`);
    const list = await entries(scope);
    expect(list.map((e) => e.state)).toEqual(['conflict', 'pending']);
    expect(list[0]).toMatchObject({ lastStatus: 412, server: { title: 'theirs', n: 0 } });
    await until(() => events.some((e) => e.type === 'conflict'));
    expect(events.find((e) => e.type === 'conflict')).toMatchObject({ status: 412, resolution: 'parked', local: { title: 'mine' }, server: { title: 'theirs' } });
    // The group waits: the second change was not sent.
    expect(rest.log.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    // The page still shows the local change.
    expect(await read(`/api/todos/${item.id}`)).toMatchObject({ body: { title: 'mine', n: 1 } });

    // Settled by replacing the body: sent against the server's current version, with a new key.
    expect(await ask(scope, 'resolve', { id: list[0]!.id, action: 'replace', body: { title: 'mine and theirs' } })).toBe(true);
    // Nothing waiting, conflicted or still at the server (both writes are claimed together).
    await until(async () => {
      const s = await status(scope);
      return s.pending + s.inFlight + s.conflicts === 0;
    });
    const patches = rest.log.filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => [p.body, p.ifMatch])).toEqual([
      ['{"title":"mine"}', `"${item.id}-v1"`],
      ['{"title":"mine and theirs"}', `"${item.id}-v2"`],
      // The next change goes against the version the one before it made.
      ['{"n":1}', `"${item.id}-v3"`],
    ]);
    expect(new Set(patches.map((p) => p.key)).size).toBe(3);
    expect(rest.items('todos')[0]).toMatchObject({ title: 'mine and theirs', n: 1 });
  });

  it('manual: resolve retry sends it again unchanged; discard drops it and the cache gets the server version', async () => {
    const item = await conflicted('todos', { title: 'mine' }, { title: 'theirs' });
    await syncNow(scope);
    const [entry] = await entries(scope);
    expect(await ask(scope, 'resolve', { id: entry!.id, action: 'retry' })).toBe(true);
    await until(() => rest.log.filter((r) => r.method === 'PATCH').length === 2);
    await until(async () => (await status(scope)).conflicts === 1);
    expect(await ask(scope, 'resolve', { id: entry!.id, action: 'discard' })).toBe(true);
    expect(await entries(scope)).toEqual([]);
    expect(await read(`/api/todos/${item.id}`)).toMatchObject({ pending: null, body: { title: 'theirs' } });
    await expect(ask(scope, 'resolve', { id: entry!.id, action: 'merge' })).rejects.toMatchObject({ code: 'bad-resolution' });
  });

  it('server-wins drops the local change and revalidates the cached item and list', async () => {
    const events = heard();
    const item = await conflicted('serverwins', { title: 'mine' }, { title: 'theirs' });
    await syncNow(scope);
    // The item and the list are announced apart: wait for both.
    const updated = () => events.flatMap((e) => (e.type === 'cache-updated' ? e.urls : []));
    await until(() => updated().includes(`${ORIGIN}/api/serverwins/${item.id}`) && updated().includes(`${ORIGIN}/api/serverwins`));
    expect(await entries(scope)).toEqual([]);
    expect(rest.items('serverwins')[0]).toMatchObject({ title: 'theirs' });
    expect(events.find((e) => e.type === 'conflict')).toMatchObject({ resolution: 'server-wins', local: { title: 'mine' } });
    net.online = false;
    expect(await read(`/api/serverwins/${item.id}`)).toMatchObject({ pending: null, body: { title: 'theirs' } });
    expect(await read('/api/serverwins')).toMatchObject({ body: [{ title: 'theirs' }] });
  });

  it('client-wins resends without preconditions and with a new Idempotency-Key', async () => {
    const item = await conflicted('clientwins', { title: 'mine' }, { title: 'theirs' });
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0 && rest.log.filter((r) => r.method === 'PATCH').length === 2);
    const [first, second] = rest.log.filter((r) => r.method === 'PATCH');
    expect(first!.ifMatch).toBe(`"${item.id}-v1"`);
    expect(second!.ifMatch).toBeUndefined();
    expect(second!.key).not.toBe(first!.key);
    expect(rest.items('clientwins')[0]).toMatchObject({ title: 'mine' });
  });

  it('newest-wins keeps the later of the local change and the server edit (updatedAt)', async () => {
    // The server's edit is older than the local change: the local change wins.
    await conflicted('newest', { title: 'mine' }, { title: 'theirs' }, Date.now() - 60_000);
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0 && rest.items('newest')[0]!.title === 'mine');
    await scope.teardown();
    rest.reset();
    // The server's edit is newer: it wins.
    await conflicted('newest', { title: 'mine' }, { title: 'theirs' }, Date.now() + 60_000);
    await syncNow(scope);
    await until(async () => (await entries(scope)).length === 0);
    expect(rest.items('newest')[0]).toMatchObject({ title: 'theirs' });
  });
});
