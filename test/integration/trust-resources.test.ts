/**
 * Issue 9's defects in declared resources' writes, and across worker
 * instances and scopes: each test failed before its fix.
 */
import { HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { ask, entries, importWorker, installWorker, listenAsPage, ORIGIN, outboxSuite, send, status, syncNow, until } from '../support/outbox-harness.js';
import { restartWorker, startWorker, type ServiceWorkerScope } from '../support/sw-scope.js';

const manifest = {
  version: 1,
  routes: [
    { match: '/api/todos/:id', methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: '/api/todos', methods: ['POST'], queue: {}, resource: 'todos' },
    { match: '/api/todos/:id', methods: ['PUT', 'PATCH', 'DELETE'], queue: {}, resource: 'todos' },
    { match: '/api/todos/:id/files', methods: ['POST'], queue: {} },
    { match: '/api/notes/:id', methods: ['POST', 'PUT'], queue: {} },
  ],
  resources: { todos: { collection: '/api/todos', item: '/api/todos/:id', ids: 'server' } },
};

let scope: ServiceWorkerScope;
const net = outboxSuite(manifest, () => scope);
const json = (method: string, value: unknown) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
const writes = () => net.received.filter((r) => r.method !== 'GET');
const path = (r: { path: string }) => r.path;

describe('server ids (defect 5)', () => {
  it('a write in another group whose URL names a still-local id waits for the create, and goes with the server id', async () => {
    scope = await installWorker();
    net.online = false;
    const created = await send(scope, '/api/todos', json('POST', { title: 't' }));
    const local = JSON.parse(created.text!).id as string;
    expect((await send(scope, `/api/todos/${local}/files`, json('POST', { name: 'f' }))).status).toBe(202);
    net.online = true;
    net.behave((request) => (new URL(request.url).pathname === '/api/todos' ? HttpResponse.json({ id: 7, title: 't' }, { status: 201 }) : undefined));
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0, 5000, 'both delivered');
    expect(writes().map(path)).toEqual(['/api/todos', '/api/todos/7/files']);
  });

  it('online, a write naming the local id of a create still waiting is queued behind it, not sent to a 404', async () => {
    scope = await installWorker();
    net.online = false;
    const local = JSON.parse((await send(scope, '/api/todos', json('POST', { title: 't' }))).text!).id as string;
    net.online = true;
    net.behave(() => new HttpResponse(null, { status: 503 }));
    expect((await send(scope, `/api/todos/${local}/files`, json('POST', { name: 'f' }))).status).toBe(202);
    expect(writes()).toEqual([]);
  });
});

describe('the page always gets its 202 once the write is committed (defect 6)', () => {
  it('a failure reading the local writes for the answer does not reach the page as an error', async () => {
    scope = await installWorker();
    net.online = false;
    // Reading bodies for the optimistic answer fails; the write was already stored.
    const IDB = (globalThis as unknown as { IDBDatabase: typeof IDBDatabase }).IDBDatabase;
    const transaction = IDB.prototype.transaction;
    vi.spyOn(IDB.prototype, 'transaction').mockImplementation(function (
      this: IDBDatabase,
      stores: string | Iterable<string>,
      mode?: IDBTransactionMode,
      options?: IDBTransactionOptions,
    ) {
      if (mode !== 'readwrite' && (typeof stores === 'string' ? [stores] : [...stores]).includes('bodies')) throw new DOMException('disk gone', 'UnknownError');
      return transaction.call(this, stores, mode, options);
    });
    const r = await send(scope, '/api/todos/1', json('PUT', { title: 'x' }));
    expect(r.status).toBe(202);
    vi.restoreAllMocks();
    expect(await entries(scope)).toMatchObject([{ method: 'PUT', state: 'pending' }]);
  });
});

describe('a dead write retried after newer writes of its item went (defect 8)', () => {
  it('becomes a conflict showing both versions, instead of landing on top of them', async () => {
    scope = await installWorker();
    net.online = false;
    const first = (await send(scope, '/api/notes/1', { method: 'PUT', body: 'old' })).headers['x-outbox-queued']!;
    await send(scope, '/api/notes/1', { method: 'PUT', body: 'new' });
    net.online = true;
    net.behave((_request, attempt) => (attempt === 1 && writes().length === 0 ? new HttpResponse(null, { status: 400 }) : undefined));
    await syncNow(scope);
    expect(writes()).toHaveLength(2);
    expect((await entries(scope)).map((e) => e.state)).toEqual(['dead']);
    const heard = listenAsPage(scope);
    expect(await ask(scope, 'retry', { id: first })).toBe(true);
    await syncNow(scope);
    await until(() => heard.some((e) => e.type === 'conflict'), 2000, 'the conflict event');
    expect(writes()).toHaveLength(2);
    expect(await entries(scope)).toMatchObject([{ id: first, state: 'conflict' }]);
    expect(heard.find((e) => e.type === 'conflict')).toMatchObject({ id: first, resolution: 'parked' });
  });
});

describe('the chained If-Match survives a worker restart (defect 10)', () => {
  it('the write behind a delivered one is sent with the ETag that one got, after a restart too', async () => {
    scope = await installWorker();
    net.behave(() => HttpResponse.json({ id: 1, title: 'v1' }, { headers: { etag: '"v1"' } }));
    await (await scope.fetch('/api/todos/1')).done;
    net.online = false;
    await send(scope, '/api/todos/1', json('PUT', { id: 1, title: 'a' }));
    await send(scope, '/api/todos/1', json('PUT', { id: 1, title: 'b' }));
    net.online = true;
    const ifMatch: (string | null)[] = [];
    net.behave((request) => {
      if (request.method !== 'PUT') return HttpResponse.json({ id: 1, title: 'a' }, { headers: { etag: '"v2"' } });
      ifMatch.push(request.headers.get('if-match'));
      // The first is applied (new ETag); the second's answer never comes: the worker dies waiting.
      return ifMatch.length === 1 ? HttpResponse.json({ id: 1, title: 'a' }, { headers: { etag: '"v2"' } }) : new Promise(() => {});
    });
    void syncNow(scope).catch(() => {});
    await until(() => ifMatch.length === 2, 5000, 'the second write is at the server');
    scope = await restartWorker(scope, importWorker);
    net.behave((request) => (request.method === 'PUT' && ifMatch.push(request.headers.get('if-match')), HttpResponse.json({ id: 1, title: 'b' }, { headers: { etag: '"v3"' } })));
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 16_000); // its lease lapsed
    await syncNow(scope);
    expect(ifMatch).toEqual(['"v1"', '"v2"', '"v2"']);
  });
});

describe('a live write re-dispatched to a fresh worker (defect 7)', () => {
  it('carries the same Idempotency-Key as the copy the stopped worker was sending', async () => {
    scope = await installWorker();
    const keys: (string | null)[] = [];
    net.behave((request) => (keys.push(request.headers.get('idempotency-key')), new Promise(() => {})));
    const page = scope.clients.addWindow({ url: '/' });
    void scope.fetch('/api/notes/1', { method: 'POST', body: 'x', clientId: page.id }).catch(() => {});
    await until(() => keys.length === 1, 5000, 'the first copy is at the server');
    // The browser stops the worker mid-send and gives the same fetch to a new instance.
    scope = await restartWorker(scope, importWorker);
    net.behave((request) => (keys.push(request.headers.get('idempotency-key')), HttpResponse.json({}, { status: 201 })));
    const again = await scope.fetch('/api/notes/1', { method: 'POST', body: 'x', clientId: page.id });
    expect(again.response!.status).toBe(201);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    // A later, separate write with the same body is a new write: a new key.
    await (await scope.fetch('/api/notes/1', { method: 'POST', body: 'x', clientId: page.id })).done;
    expect(keys[2]).not.toBe(keys[0]);
  });
});

describe('a queued write re-dispatched to a fresh worker (chaos, issue 12)', () => {
  it('is answered from the entry the stopped worker committed, not queued again under a new key', async () => {
    scope = await installWorker();
    const page = scope.clients.addWindow({ url: '/' });
    net.online = false;
    // The first write makes the group busy; the second is queued behind it without a live send.
    await (await scope.fetch('/api/notes/1', { method: 'POST', body: 'first', clientId: page.id })).done;
    const first = await scope.fetch('/api/notes/1', { method: 'POST', body: 'second', clientId: page.id });
    expect(first.response!.status).toBe(202);
    const id = first.response!.headers.get('x-outbox-queued');
    // The browser stops the worker before the page has its answer, and gives the same fetch to a new instance.
    scope = await restartWorker(scope, importWorker);
    const again = await scope.fetch('/api/notes/1', { method: 'POST', body: 'second', clientId: page.id });
    expect(again.response!.status).toBe(202);
    expect(again.response!.headers.get('x-outbox-queued')).toBe(id);
    expect((await entries(scope)).map((e) => e.id)).toHaveLength(2);
    // A later, separate write with the same body, in this instance, is a new write.
    const repeat = await scope.fetch('/api/notes/1', { method: 'POST', body: 'second', clientId: page.id });
    expect(repeat.response!.headers.get('x-outbox-queued')).not.toBe(id);
    net.online = true;
    await syncNow(scope);
    expect(writes().map((w) => new TextDecoder().decode(w.body))).toEqual(['first', 'second', 'second']);
    expect(new Set(writes().map((w) => w.headers['idempotency-key'])).size).toBe(3);
  });
});

describe('one database per scope (defect 4)', () => {
  it("one scope's clear() and replays leave another scope's writes alone", async () => {
    const factory = new (await import('fake-indexeddb')).IDBFactory();
    const start = async (name: string) => {
      const s = await startWorker({ scriptUrl: `${ORIGIN}/${name}/sw.js?manifest=/offline.manifest.json`, indexedDB: factory }, importWorker);
      await s.install();
      await s.activate();
      return s;
    };
    scope = await start('a');
    net.online = false;
    await send(scope, '/api/notes/1', { body: 'from a' });
    net.online = true;
    await scope.teardown();
    scope = await start('b');
    expect(await entries(scope)).toEqual([]);
    await syncNow(scope);
    expect(await ask(scope, 'clear')).toBe(true);
    expect(writes()).toEqual([]);
    await scope.teardown();
    scope = await start('a');
    await syncNow(scope);
    expect(writes().map((w) => new TextDecoder().decode(w.body))).toEqual(['from a']);
  });
});

describe('growth stays bounded (defect 17)', () => {
  it("a queued change reads its own item's queued bodies for the answer, not every item's", async () => {
    scope = await installWorker();
    net.online = false;
    for (let i = 1; i <= 30; i++) await send(scope, `/api/todos/${i}`, json('PATCH', { n: i }));
    const Store = (globalThis as unknown as { IDBObjectStore: typeof IDBObjectStore }).IDBObjectStore;
    const get = vi.spyOn(Store.prototype, 'get');
    expect((await send(scope, '/api/todos/5', json('PATCH', { m: 1 }))).status).toBe(202);
    const bodyReads = get.mock.contexts.filter((store) => (store as IDBObjectStore).name === 'bodies').length;
    // Item 5's two writes (the one before and this one), not thirty.
    expect(bodyReads).toBeLessThanOrEqual(2);
  });

  it('the server id of a local one is forgotten a day after the create was delivered', async () => {
    scope = await installWorker();
    net.online = false;
    const local = JSON.parse((await send(scope, '/api/todos', json('POST', { title: 't' }))).text!).id as string;
    net.online = true;
    net.behave((request) => (request.method === 'POST' ? HttpResponse.json({ id: 9, title: 't' }, { status: 201 }) : HttpResponse.json({ id: 9, title: 't' })));
    await syncNow(scope);
    await (await scope.fetch(`/api/todos/${local}`)).done;
    expect(net.received.filter((r) => r.method === 'GET').map(path)).toEqual(['/api/todos/9']);
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 25 * 60 * 60 * 1000);
    await send(scope, '/api/notes/1', { body: 'x' }); // a delivered write ends a pass with nothing left: the flush prunes
    await syncNow(scope);
    await until(
      async () => {
        await (await scope.fetch(`/api/todos/${local}`)).done;
        return net.received.some((r) => r.method === 'GET' && r.path === `/api/todos/${local}`);
      },
      5000,
      'the local id no longer maps to the server one',
    );
  });
});
