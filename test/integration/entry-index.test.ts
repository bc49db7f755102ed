/**
 * The worker's in-memory index of the outbox (sw/outbox/entry-index.ts), as
 * a page sees it: what the overlay shows and what status() counts after each
 * change to the outbox (a write queued, delivered, discarded, resolved, a
 * create named by the server, a log-out), a second worker instance's write,
 * and the storage reads the index saves. Several tests look while a pass is
 * still under way (a write held at the server): then no full read of the
 * store has refreshed the index since the change, only the change itself.
 */
import { IDBDatabase } from 'fake-indexeddb';
import { HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutboxStatus } from '../../common/messages.js';
import type { OutboxEntry } from '../../sw/outbox/entry.js';
import { ask, entries, importWorker, installWorker, listenAsPage, ORIGIN, outboxSuite, send, status, syncNow, until } from '../support/outbox-harness.js';
import { createRestStore } from '../support/rest-store.js';
import { startNextWorker, type ServiceWorkerScope } from '../support/sw-scope.js';

const manifest = {
  version: 1,
  routes: [
    { match: '/api/todos', methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: '/api/todos/:id', methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: '/api/todos', methods: ['POST'], queue: {}, resource: 'todos' },
    { match: '/api/todos/:id', methods: ['PUT', 'PATCH', 'DELETE'], queue: { conflict: 'manual' }, resource: 'todos' },
  ],
  resources: { todos: { collection: '/api/todos', item: '/api/todos/:id', ids: 'server', pendingField: '_pending' } },
};

let scope: ServiceWorkerScope;
/** A second instance of the worker, beside `scope` (an update). */
let next: ServiceWorkerScope | undefined;
const net = outboxSuite(manifest, () => scope);
const rest = createRestStore();
/** Writes to a held path wait at the server until it is released; then answered with `status`, or by the REST store. */
const held = new Map<string, { gate: Promise<void>; open: () => void; status?: number }>();
/** The held writes that reached the server, in order. */
let waiting: string[];
function hold(path: string, status?: number): void {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  held.set(path, { gate, open, status });
}
/** Releases one held path, or all. */
const release = (path?: string) => {
  for (const [p, h] of held) if (path === undefined || p === path) h.open();
};

beforeEach(() => {
  rest.reset();
  held.clear();
  waiting = [];
  net.behave(async (request) => {
    const url = new URL(request.url);
    const gated = request.method === 'GET' ? undefined : held.get(url.pathname);
    if (gated) {
      waiting.push(`${request.method} ${url.pathname}`);
      await gated.gate;
      if (gated.status) return new HttpResponse(null, { status: gated.status });
    }
    const r = rest.handle({ method: request.method, url: url.pathname + url.search, headers: Object.fromEntries(request.headers), body: await request.text() });
    return new HttpResponse(r.status === 204 || r.status === 304 ? null : r.body, { status: r.status, headers: r.headers });
  });
});

afterEach(async () => {
  release();
  await next?.teardown();
  next = undefined;
});

const json = (method: string, value: unknown) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

/** A GET as the page makes it: its status, X-Outbox-Pending and JSON body. */
async function read(path: string) {
  const { response } = await scope.fetch(`${ORIGIN}${path}`);
  return { status: response!.status, pending: response!.headers.get('x-outbox-pending'), body: (await response!.json()) as unknown };
}

const counts = (s: OutboxStatus) => ({ pending: s.pending, inFlight: s.inFlight, conflicts: s.conflicts, dead: s.dead });

/** Two items read online (so cached), then `net.online = false`. */
async function twoItemsOffline() {
  scope = await installWorker();
  const a = rest.seed('todos', { title: 'a' });
  const b = rest.seed('todos', { title: 'b' });
  expect((await read('/api/todos')).body).toEqual([a, b]);
  net.online = false;
  return { a, b };
}

describe('the overlay and status() follow every change to the outbox', () => {
  it('a delivered write leaves the overlay and the counts at once, while the rest of the pass is still at the server', async () => {
    const { a, b } = await twoItemsOffline();
    await send(scope, `/api/todos/${a.id}`, json('PATCH', { title: 'a2' }));
    await send(scope, `/api/todos/${b.id}`, json('PATCH', { title: 'b2' }));
    expect(await read('/api/todos')).toEqual({
      status: 200,
      pending: '2',
      body: [
        { ...a, title: 'a2', _pending: true },
        { ...b, title: 'b2', _pending: true },
      ],
    });
    expect(counts(await status(scope))).toEqual({ pending: 2, inFlight: 0, conflicts: 0, dead: 0 });

    hold(`/api/todos/${b.id}`);
    net.online = true;
    const pass = syncNow(scope);
    await until(() => waiting.length === 1, 5000, "b's write at the server");
    await until(async () => (await status(scope)).inFlight === 1 && (await status(scope)).pending === 0, 5000, "a's write delivered");
    // a is the server's now, and no longer marked; b's write, in flight, still shows.
    const during = await read('/api/todos');
    expect(during).toMatchObject({
      pending: '1',
      body: [
        { id: a.id, title: 'a2' },
        { id: b.id, title: 'b2', _pending: true },
      ],
    });
    expect((during.body as Record<string, unknown>[])[0]).not.toHaveProperty('_pending');

    release();
    await pass;
    await until(async () => (await status(scope)).inFlight === 0, 5000, "b's write delivered");
    expect(counts(await status(scope))).toEqual({ pending: 0, inFlight: 0, conflicts: 0, dead: 0 });
    expect(await read('/api/todos')).toMatchObject({
      pending: null,
      body: [
        { id: a.id, title: 'a2' },
        { id: b.id, title: 'b2' },
      ],
    });
    expect((await status(scope)).oldestPendingAt).toBeNull();
  });

  it('discard: the write leaves the overlay and the counts; the others stay, in order', async () => {
    const { a, b } = await twoItemsOffline();
    const first = (await send(scope, `/api/todos/${a.id}`, json('PATCH', { title: 'a2' }))).headers['x-outbox-queued']!;
    await send(scope, `/api/todos/${b.id}`, json('PATCH', { title: 'b2' }));
    await send(scope, `/api/todos/${a.id}`, json('PATCH', { done: true }));
    const oldest = (await status(scope)).oldestPendingAt;
    expect(oldest).toBe((await entries(scope))[0]!.createdAt);

    expect(await ask(scope, 'discard', { id: first })).toBe(true);
    expect(await read('/api/todos')).toEqual({
      status: 200,
      pending: '2',
      body: [
        { ...a, done: true, _pending: true },
        { ...b, title: 'b2', _pending: true },
      ],
    });
    expect(counts(await status(scope))).toEqual({ pending: 2, inFlight: 0, conflicts: 0, dead: 0 });
    // The oldest is now the second write.
    expect((await status(scope)).oldestPendingAt).toBe((await entries(scope))[0]!.createdAt);
  });

  it('a conflict, then resolve(replace): the overlay shows the new body, the counts move from conflicts to pending', async () => {
    scope = await installWorker();
    const item = rest.seed('todos', { title: 'original' });
    await read(`/api/todos/${item.id}`);
    await read('/api/todos');
    net.online = false;
    await send(scope, `/api/todos/${item.id}`, json('PATCH', { title: 'mine' }));
    rest.edit('todos', item.id, { title: 'theirs' });
    net.online = true;
    await syncNow(scope);
    expect(counts(await status(scope))).toEqual({ pending: 0, inFlight: 0, conflicts: 1, dead: 0 });
    net.online = false;
    expect(await read('/api/todos')).toMatchObject({ pending: '1', body: [{ id: item.id, title: 'mine', _pending: true }] });

    const [conflicted] = await entries(scope);
    expect(await ask(scope, 'resolve', { id: conflicted!.id, action: 'replace', body: { title: 'mine and theirs' } })).toBe(true);
    expect(await read('/api/todos')).toMatchObject({ pending: '1', body: [{ id: item.id, title: 'mine and theirs', _pending: true }] });
    expect(await read(`/api/todos/${item.id}`)).toMatchObject({ pending: '1', body: { id: item.id, title: 'mine and theirs' } });
    await until(async () => (await status(scope)).inFlight === 0);
    expect(counts(await status(scope))).toEqual({ pending: 1, inFlight: 0, conflicts: 0, dead: 0 });
  });

  it("a create the server named: the write behind it shows on the server's item, while it is still at the server", async () => {
    scope = await installWorker();
    const first = rest.seed('todos', { title: 'first' });
    await read('/api/todos');
    net.online = false;
    const local = JSON.parse((await send(scope, '/api/todos', json('POST', { title: 'new' }))).text!) as { id: string };
    await send(scope, `/api/todos/${local.id}`, json('PATCH', { done: true }));
    expect(await read('/api/todos')).toMatchObject({ pending: '2', body: [first, { id: local.id, title: 'new', done: true, _pending: true }] });

    // The server will name it 2: the PATCH, rewritten to /api/todos/2, waits there.
    hold('/api/todos/2');
    net.online = true;
    const pass = syncNow(scope);
    await until(() => waiting.length === 1, 5000, 'the PATCH at the server');
    expect(waiting).toEqual(['PATCH /api/todos/2']);
    expect(counts(await status(scope))).toEqual({ pending: 0, inFlight: 1, conflicts: 0, dead: 0 });
    // One item, under the server's id, with the change still on its way; the local id is gone.
    const during = await read('/api/todos');
    expect(during).toMatchObject({ pending: '1', body: [first, { id: 2, title: 'new', done: true, _pending: true }] });
    expect(during.body).toHaveLength(2);
    expect(await read('/api/todos/2')).toMatchObject({ pending: '1', body: { id: 2, title: 'new', done: true } });

    release();
    await pass;
    await until(async () => (await status(scope)).inFlight === 0);
    expect(await read('/api/todos')).toMatchObject({ pending: null, body: [first, { id: 2, title: 'new', done: true }] });
  });

  it('clear(): nothing is overlaid or counted; a write queued after it is the only one shown', async () => {
    const { a, b } = await twoItemsOffline();
    await send(scope, `/api/todos/${a.id}`, json('PATCH', { title: 'a2' }));
    await send(scope, `/api/todos/${a.id}`, { method: 'DELETE' });
    expect(await read('/api/todos')).toMatchObject({ pending: '2', body: [b] });

    expect(await ask(scope, 'clear')).toBe(true);
    expect(await status(scope)).toMatchObject({ pending: 0, inFlight: 0, conflicts: 0, auth: 0, dead: 0, oldestPendingAt: null });
    // Clear empties the caches too: offline, the collection starts from nothing.
    await send(scope, `/api/todos/${b.id}`, json('PUT', { title: 'b2' }));
    expect(await read('/api/todos')).toEqual({ status: 200, pending: '1', body: [{ title: 'b2', id: String(b.id), _pending: true }] });
    expect(counts(await status(scope))).toEqual({ pending: 1, inFlight: 0, conflicts: 0, dead: 0 });
    expect((await status(scope)).oldestPendingAt).toBe((await entries(scope))[0]!.createdAt);
  });

  it('a write discarded while at the server does not come back when its answer arrives, while the pass goes on', async () => {
    const { a, b } = await twoItemsOffline();
    const events = listenAsPage(scope);
    const id = (await send(scope, `/api/todos/${a.id}`, json('PATCH', { title: 'a2' }))).headers['x-outbox-queued']!;
    await send(scope, `/api/todos/${b.id}`, json('PATCH', { title: 'b2' }));
    hold(`/api/todos/${a.id}`, 503);
    hold(`/api/todos/${b.id}`);
    net.online = true;
    const pass = syncNow(scope);
    await until(() => waiting.length === 2, 5000, 'both writes at the server');
    expect(await ask(scope, 'discard', { id })).toBe(true);
    expect(counts(await status(scope))).toEqual({ pending: 0, inFlight: 1, conflicts: 0, dead: 0 });
    // The server fails a's write: the replay would put it back in line for a retry, but it is gone.
    release(`/api/todos/${a.id}`);
    await until(() => events.some((e) => e.type === 'retrying' && e.id === id), 5000, "a's retry written back");
    expect(counts(await status(scope))).toEqual({ pending: 0, inFlight: 1, conflicts: 0, dead: 0 });
    expect(await read('/api/todos')).toMatchObject({
      pending: '1',
      body: [
        { id: a.id, title: 'a' },
        { id: b.id, title: 'b2', _pending: true },
      ],
    });

    release();
    await pass;
    await until(async () => (await status(scope)).inFlight === 0);
    expect(await entries(scope)).toEqual([]);
    expect(rest.items('todos').map((x) => x.title)).toEqual(['a', 'b2']);
  });

  it('clear() while a write is at the server: nothing comes back when its answer arrives', async () => {
    const { a } = await twoItemsOffline();
    await send(scope, `/api/todos/${a.id}`, json('PATCH', { title: 'a2' }));
    hold(`/api/todos/${a.id}`);
    net.online = true;
    const pass = syncNow(scope).catch(() => undefined);
    await until(() => waiting.length === 1, 5000, 'the write at the server');
    expect(counts(await status(scope))).toEqual({ pending: 0, inFlight: 1, conflicts: 0, dead: 0 });
    const cleared = ask(scope, 'clear');
    // The worker gave up on the answer (its fetch is aborted); the server still answers, later.
    release();
    expect(await cleared).toBe(true);
    await pass;
    expect(await status(scope)).toMatchObject({ pending: 0, inFlight: 0, conflicts: 0, auth: 0, dead: 0, oldestPendingAt: null });
    expect(await entries(scope)).toEqual([]);
    // The list as the server has it (it applied the write), with nothing overlaid.
    expect(await read('/api/todos')).toMatchObject({ pending: null, body: [{ id: a.id, title: 'a2' }, { title: 'b' }] });
  });
});

describe('another instance of the worker (an update) writing to the same outbox', () => {
  it('its write is seen here at once: it tells this instance, whose index is read again', async () => {
    const { a } = await twoItemsOffline();
    expect((await status(scope)).pending).toBe(0);
    next = await startNextWorker(scope, importWorker);
    await next.install();
    const queued = await next.fetch(`${ORIGIN}/api/todos/${a.id}`, json('PATCH', { title: 'from the new worker' }));
    expect(queued.response!.status).toBe(202);
    await queued.done;
    // The message is a task away: no pass of this instance's runs meanwhile (nothing of its own is queued).
    await until(async () => (await status(scope)).pending === 1, 2000, 'the other instance heard');
    expect(await read('/api/todos')).toMatchObject({ pending: '1', body: [{ id: a.id, title: 'from the new worker', _pending: true }, { title: 'b' }] });
  });

  it("a write it was not told of (a worker version without the channel) is seen after this instance's next pass", async () => {
    const { a } = await twoItemsOffline();
    expect((await status(scope)).pending).toBe(0);
    await scope.run(() => writeRaw(a.id as number, { title: 'from an old worker' }));
    // The bound: not seen until this instance reads the store again.
    expect((await status(scope)).pending).toBe(0);
    expect((await read('/api/todos')).pending).toBeNull();

    // Its next pass reads every entry, and the index with it.
    await syncNow(scope);
    expect(counts(await status(scope))).toEqual({ pending: 1, inFlight: 0, conflicts: 0, dead: 0 });
    expect(await read('/api/todos')).toMatchObject({ pending: '1', body: [{ id: a.id, title: 'from an old worker', _pending: true }, { title: 'b' }] });
  });
});

/** A PATCH queued straight into the outbox's database, as another worker would have stored it (run it as the scope's code). */
function writeRaw(id: number, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(`offline-outbox ${ORIGIN}/`);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const t = db.transaction(['entries', 'bodies'], 'readwrite');
      const bytes = new TextEncoder().encode(JSON.stringify(body));
      const now = Date.now();
      const entry: OutboxEntry = {
        id: crypto.randomUUID(),
        key: 'raw-1',
        group: `/api/todos/${id}`,
        priority: 0,
        method: 'PATCH',
        url: `${ORIGIN}/api/todos/${id}`,
        state: 'pending',
        createdAt: now,
        // Backing off after a server error: a pass reads it, but does not claim (nor send) it.
        attempts: 1,
        nextAttemptAt: now + 3_600_000,
        lastStatus: 503,
        lastError: 'HTTP 503',
        bodyBytes: bytes.byteLength,
        resource: 'todos',
        itemId: String(id),
        headers: [
          ['content-type', 'application/json'],
          ['idempotency-key', '"raw-1"'],
        ],
        credentials: 'same-origin',
        policy: { timeoutMs: 10_000, retry: [], conflict: [409, 412], onConflict: 'manual' },
        leaseUntil: 0,
      };
      t.objectStore('entries').add(entry).onsuccess = (e) => t.objectStore('bodies').add(bytes.buffer, (e.target as IDBRequest<number>).result);
      t.oncomplete = () => {
        db.close();
        resolve();
      };
      t.onerror = () => reject(t.error);
    };
  });
}

describe('what the index saves', () => {
  it('status() and a collection GET with writes waiting open no transaction on the entries, nor on the bodies once parsed', async () => {
    const { a, b } = await twoItemsOffline();
    for (let i = 0; i < 20; i++) await send(scope, `/api/todos/${i % 2 ? a.id : b.id}`, json('PATCH', { n: i }));
    // The first read parses the bodies; later ones hold them.
    expect((await read('/api/todos')).pending).toBe('20');
    // A pass reads the store by design: one now, and the next is a backoff (a second at least) away.
    await syncNow(scope);
    const opened: string[] = [];
    const transaction = IDBDatabase.prototype.transaction;
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, stores, ...rest) {
      opened.push(...(typeof stores === 'string' ? [stores] : [...stores]));
      return transaction.call(this, stores, ...rest);
    });
    expect(await read('/api/todos')).toMatchObject({
      pending: '20',
      body: [
        { id: a.id, n: 19 },
        { id: b.id, n: 18 },
      ],
    });
    expect(counts(await status(scope))).toEqual({ pending: 20, inFlight: 0, conflicts: 0, dead: 0 });
    expect(opened.filter((store) => store === 'entries' || store === 'bodies')).toEqual([]);
    // A write queued now: its body was parsed for its own 202 answer, and the GET reads nothing either.
    await send(scope, `/api/todos/${a.id}`, json('PATCH', { n: 20 }));
    opened.length = 0;
    expect(await read('/api/todos')).toMatchObject({
      pending: '21',
      body: [
        { id: a.id, n: 20 },
        { id: b.id, n: 18 },
      ],
    });
    expect(opened.filter((store) => store === 'entries' || store === 'bodies')).toEqual([]);
  });
});

describe('the index on its own (sw/outbox/entry-index.ts)', () => {
  const entry = (seq: number, extra: Partial<OutboxEntry> = {}): OutboxEntry => ({
    seq,
    id: `id-${seq}`,
    key: `k-${seq}`,
    group: `/api/todos/${seq % 3}`,
    priority: 0,
    method: 'PATCH',
    url: `${ORIGIN}/api/todos/${seq % 3}`,
    state: 'pending',
    createdAt: 1000 + seq,
    attempts: 0,
    nextAttemptAt: 0,
    bodyBytes: 2,
    resource: 'todos',
    itemId: String(seq % 3),
    headers: [],
    credentials: 'same-origin',
    policy: { timeoutMs: 1000, retry: [], conflict: [409, 412] },
    leaseUntil: 0,
    ...extra,
  });
  const load = async () => {
    vi.resetModules();
    return import('../../sw/outbox/entry-index.js');
  };
  const seqs = (list: { seq: number }[]) => list.map((e) => e.seq);

  it('changes nothing before its first full read, then follows every change', async () => {
    const index = await load();
    index.set(entry(1));
    expect(index.isLoaded()).toBe(false);
    index.reset([entry(1), entry(2, { state: 'dead' })]);
    index.set(entry(3));
    index.del(1);
    expect(seqs(index.writesOf('todos'))).toEqual([3]);
    expect(index.counts()).toEqual({ pending: 1, inflight: 0, conflict: 0, auth: 0, dead: 1 });
    expect(index.oldest()?.seq).toBe(2);
  });

  it("keeps seq order when an entry joins late (retried from dead, renamed, another instance's)", async () => {
    const index = await load();
    index.reset([1, 2, 3, 4].map((seq) => entry(seq, { group: 'g', state: seq === 2 ? 'dead' : 'pending' })));
    expect(seqs(index.writesOf('todos', 'g'))).toEqual([1, 3, 4]);
    index.set(entry(2, { group: 'g' }));
    expect(seqs(index.writesOf('todos', 'g'))).toEqual([1, 2, 3, 4]);
    expect(seqs(index.writesOf('todos'))).toEqual([1, 2, 3, 4]);
    // In flight keeps its place; a group renamed (a create named) moves, in order.
    index.set(entry(3, { group: 'g', state: 'inflight' }));
    index.set(entry(1, { group: 'h' }));
    index.set(entry(4, { group: 'h' }));
    expect(seqs(index.writesOf('todos', 'g'))).toEqual([2, 3]);
    expect(seqs(index.writesOf('todos', 'h'))).toEqual([1, 4]);
    expect([index.hasGroup('g'), index.hasGroup('h'), index.hasResource('todos'), index.hasResource('notes')]).toEqual([true, true, true, false]);
    index.set(entry(9, { group: 'h' }));
    index.set(entry(7, { group: 'h' }));
    expect(seqs(index.writesOf('todos', 'h'))).toEqual([1, 4, 7, 9]);
    expect(index.counts()).toMatchObject({ pending: 5, inflight: 1 });
  });

  it('finds the oldest after deletions in any order and later enqueues (the store never reuses a seq)', async () => {
    const index = await load();
    index.reset(Array.from({ length: 1000 }, (_, i) => entry(i + 1)));
    for (let seq = 1; seq < 1000; seq++) {
      index.del(seq);
      expect(index.oldest()?.seq).toBe(seq + 1);
    }
    index.set(entry(1001));
    index.set(entry(1002));
    // A change keeps an entry's place.
    index.set(entry(1000, { state: 'inflight' }));
    expect(index.oldest()?.seq).toBe(1000);
    index.del(1001);
    index.del(1000);
    expect(index.oldest()?.createdAt).toBe(2002);
    index.del(1002);
    expect(index.oldest()).toBeUndefined();
    expect(index.counts()).toEqual({ pending: 0, inflight: 0, conflict: 0, auth: 0, dead: 0 });
    expect(index.writesOf('todos')).toEqual([]);
  });

  it("keeps a few fields of each entry (no headers, policy or conflict versions), creates' local ids only while live, in frozen copies", async () => {
    const index = await load();
    const conflict = entry(1, { state: 'conflict', server: { big: 'x'.repeat(10_000) }, local: { mine: true }, headers: [['if-match', '"v1"']] });
    const create = entry(2, { method: 'POST', tempId: true, itemId: 'local-1' });
    index.reset([conflict, create]);
    const [kept] = index.writesOf('todos', conflict.group);
    expect(kept).toEqual({
      seq: 1,
      id: 'id-1',
      key: 'k-1',
      group: conflict.group,
      state: 'conflict',
      method: 'PATCH',
      createdAt: 1001,
      bodyBytes: 2,
      resource: 'todos',
      itemId: '1',
      tempId: undefined,
    });
    expect(Object.isFrozen(kept)).toBe(true);
    expect([...index.localIds()]).toEqual(['local-1']);
    index.set({ ...create, state: 'dead' });
    expect([...index.localIds()]).toEqual([]);
  });
});
