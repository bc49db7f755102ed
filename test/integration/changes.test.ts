/**
 * Change notices: targeted revalidation, backlog first, version skips,
 * malformed input, catch-up through `since` (pages, reset) and the echoes of
 * the worker's own writes, against the REST store behind MSW with 1,000
 * cached entries across three resources.
 */
import { HttpResponse } from 'msw';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ask, importWorker, installWorker, ORIGIN, outboxSuite, send, status, syncNow, until } from '../support/outbox-harness.js';
import { createRestStore } from '../support/rest-store.js';
import { restartWorker, type ServiceWorkerScope } from '../support/sw-scope.js';

const NAMES = ['todos', 'notes', 'tags'] as const;
const manifest = {
  version: 1,
  routes: NAMES.flatMap((name) => [
    { match: `/api/${name}`, methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: `/api/${name}/:id`, methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: `/api/${name}/:id`, methods: ['PATCH'], queue: {}, resource: name },
  ]),
  resources: Object.fromEntries(NAMES.map((name) => [name, { collection: `/api/${name}`, item: `/api/${name}/:id`, ids: 'server' }])),
  changes: { stream: '/api/changes/stream', since: '/api/changes?since={cursor}' },
};

let scope: ServiceWorkerScope;
const net = outboxSuite(manifest, () => scope);
const rest = createRestStore();
/** The `since` requests the server got (their cursors), and what it answers, by cursor. */
const sinceAsked: string[] = [];
let missed: Record<string, unknown> = {};
/** The X-Change-Cursor each write was answered with (`w1`, `w2`, …), as a server publishing a notice per write says it. */
const writeCursors: string[] = [];
/** GETs that fail (no answer) while it says so. */
let failGets: (path: string) => boolean = () => false;

beforeEach(() => {
  rest.reset();
  missed = {};
  sinceAsked.length = 0;
  writeCursors.length = 0;
  failGets = () => false;
  net.behave(async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/api/changes') {
      sinceAsked.push(url.searchParams.get('since') ?? '');
      const answer = missed[url.searchParams.get('since') ?? ''] ?? missed['*'] ?? { notices: [] };
      return HttpResponse.json(typeof answer === 'function' ? answer(url.searchParams.get('since')) : answer);
    }
    if (request.method === 'GET' && failGets(url.pathname + url.search)) return HttpResponse.error();
    const r = rest.handle({ method: request.method, url: url.pathname + url.search, headers: Object.fromEntries(request.headers), body: await request.text() });
    const headers = new Headers(r.headers);
    if (request.method !== 'GET' && r.status < 300) headers.set('x-change-cursor', writeCursors[writeCursors.push(`w${writeCursors.length + 1}`) - 1]!);
    return new HttpResponse(r.status === 204 || r.status === 304 ? null : r.body, { status: r.status, headers });
  });
});

/** A GET through the worker, once its event is over (what the strategy stores is stored). */
const get = (path: string) =>
  scope.fetch(`${ORIGIN}${path}`).then(async ({ response, done }) => {
    const body = await response!.text();
    await done;
    return { status: response!.status, body };
  });
/** The GETs the server answered since `from` (an index into the log), as paths with queries. */
const refetched = (from: number) =>
  rest.log
    .slice(from)
    .filter((r) => r.method === 'GET')
    .map((r) => r.url);
/** Notices to the worker, then a barrier: catch-up runs after the work queued before it. */
async function notify(...notices: unknown[]) {
  const reply = await ask<{ accepted: number; ignored: number }>(scope, 'notices', { notices });
  await ask(scope, 'catch-up');
  return reply;
}
/** Every cached entry (URL → body). */
async function cacheContents(): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const name of await scope.caches.keys()) {
    const cache = await scope.caches.open(name);
    for (const request of await cache.keys()) all.set(request.url, await (await cache.match(request))!.text());
  }
  return all;
}

/** Seeds `count` items per resource and reads each through the worker, plus 4 list variants each: by default 1,002 cached entries. */
async function primed(count = 330): Promise<void> {
  scope = await installWorker();
  for (const name of NAMES) {
    for (let i = 0; i < count; i++) rest.seed(name, { title: `${name} ${i}` });
  }
  for (const name of NAMES) await Promise.all(rest.items(name).map((item) => get(`/api/${name}/${String(item.id)}`)));
  for (const name of NAMES) await get(`/api/${name}`);
  for (let page = 1; page <= 3; page++) for (const name of NAMES) await get(`/api/${name}?page=${page}`);
  expect((await cacheContents()).size).toBe(3 * count + 3 + 9);
}

describe('a change notice', { timeout: 60_000 }, () => {
  it('refetches its item and the cached variants of its collection, conditionally, and nothing else', async () => {
    await primed();
    const todo = rest.items('todos')[4]!;
    rest.edit('todos', todo.id as number, { title: 'edited elsewhere' });
    const before = rest.log.length;
    const updates: string[][] = [];
    const channel = new BroadcastChannel('offline-outbox');
    channel.onmessage = ({ data }) => data.type === 'cache-updated' && updates.push(data.urls);
    expect(await notify({ resource: 'todos', id: String(todo.id), type: 'updated', version: 2 })).toEqual({ accepted: 1, ignored: 0 });
    expect(refetched(before).sort()).toEqual([`/api/todos/${String(todo.id)}`, '/api/todos', '/api/todos?page=1', '/api/todos?page=2', '/api/todos?page=3'].sort());
    expect(rest.log.slice(before).every((r) => r.method === 'GET')).toBe(true);
    // Conditional: the item with the ETag it was cached with (the edit made it stale, so a 200 came back).
    expect(rest.log.slice(before).find((r) => r.url === `/api/todos/${String(todo.id)}`)!.ifNoneMatch).toBe(`"${String(todo.id)}-v1"`);
    expect(JSON.parse((await get(`/api/todos/${String(todo.id)}`)).body)).toMatchObject({ title: 'edited elsewhere' });
    await until(() => updates.length > 0);
    expect(updates.flat()).toContain(`${ORIGIN}/api/todos/${String(todo.id)}`);
  });

  it('announces the item as soon as its answer is in, and serves that answer until the cache has written it', async () => {
    await primed(3);
    const todo = rest.items('todos')[1]!;
    const url = `${ORIGIN}/api/todos/${String(todo.id)}`;
    rest.edit('todos', todo.id as number, { title: 'edited elsewhere' });
    // The cache holding the item writes it only when the test says so.
    let cache: Cache | undefined;
    for (const name of await scope.caches.keys()) if (await (await scope.caches.open(name)).match(url)) cache = await scope.caches.open(name);
    const put = cache!.put.bind(cache);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(cache!, 'put').mockImplementation(async (request, response) => {
      if (new Request(request).url === url) await gate;
      return put(request, response);
    });
    const updates: string[][] = [];
    const channel = new BroadcastChannel('offline-outbox');
    channel.onmessage = ({ data }) => data.type === 'cache-updated' && updates.push(data.urls);
    await ask(scope, 'notices', { notices: [{ resource: 'todos', id: String(todo.id), type: 'updated', version: 2 }] });
    await until(() => updates.flat().includes(url));
    // Told before the cache has it: offline, a read through the worker gets the new answer; the cache still holds the old one.
    expect(JSON.parse(await (await cache!.match(url))!.text())).toMatchObject({ title: 'todos 1' });
    net.online = false;
    const { response } = await scope.fetch(url);
    expect(JSON.parse(await response!.text())).toMatchObject({ title: 'edited elsewhere' });
    net.online = true;
    release();
    await ask(scope, 'catch-up');
    expect(JSON.parse(await (await cache!.match(url))!.text())).toMatchObject({ title: 'edited elsewhere' });
    channel.close();
  });

  it('deleted drops the item from the cache without fetching it; a burst is coalesced per item', async () => {
    await primed();
    const [a, b] = rest.items('notes');
    const before = rest.log.length;
    const burst = Array.from({ length: 10_000 }, (_, i) => ({ resource: 'notes', id: String(i % 2 ? a!.id : b!.id), type: i === 9_999 ? 'deleted' : 'updated' }));
    expect(await notify(...burst)).toEqual({ accepted: 10_000, ignored: 0 });
    // The last notice for `a` says deleted: dropped; `b` refetched once; the collection once per variant.
    expect(refetched(before).sort()).toEqual([`/api/notes/${String(b!.id)}`, '/api/notes', '/api/notes?page=1', '/api/notes?page=2', '/api/notes?page=3'].sort());
    const cached = await cacheContents();
    expect(cached.has(`${ORIGIN}/api/notes/${String(a!.id)}`)).toBe(false);
    expect(cached.has(`${ORIGIN}/api/notes/${String(b!.id)}`)).toBe(true);
  });

  it('is skipped when its version is not newer than the last seen for that item', async () => {
    await primed();
    const id = String(rest.items('tags')[0]!.id);
    const count = () => rest.log.filter((r) => r.method === 'GET' && r.url === `/api/tags/${id}`).length;
    const start = count();
    await notify({ resource: 'tags', id, type: 'updated', version: 5 });
    expect(count()).toBe(start + 1);
    await notify({ resource: 'tags', id, type: 'updated', version: 5 }, { resource: 'tags', id, type: 'updated', version: 4 });
    expect(count()).toBe(start + 1);
    // Remembered across a worker restart.
    scope = await restartWorker(scope, importWorker);
    await notify({ resource: 'tags', id, type: 'updated', version: 5 });
    expect(count()).toBe(start + 1);
    await notify({ resource: 'tags', id, type: 'updated', version: 6 });
    expect(count()).toBe(start + 2);
  });

  it('waits while a write is queued, is applied once it is delivered, and never hides a local change', async () => {
    await primed();
    const id = String(rest.items('todos')[0]!.id);
    const tag = String(rest.items('tags')[0]!.id);
    net.online = false;
    expect((await send(scope, `/api/todos/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"title":"mine"}' })).status).toBe(202);
    net.online = true;
    const before = rest.log.length;
    await notify({ resource: 'todos', id, type: 'updated' }, { resource: 'tags', id: tag, type: 'updated' });
    // Held: nothing refetched while the write waits, not even for another resource.
    expect(refetched(before)).toEqual([]);
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0);
    await ask(scope, 'catch-up');
    const after = rest.log.slice(before).map((r) => `${r.method} ${r.url}`);
    expect(after[0]).toBe(`PATCH /api/todos/${id}`);
    expect(after).toContain(`GET /api/todos/${id}`);
    expect(after).toContain(`GET /api/tags/${tag}`);

    // A conflicted change stays visible over a base a notice refreshed.
    net.online = false;
    await send(scope, `/api/todos/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'if-match': '"stale"' }, body: '{"title":"mine again"}' });
    net.online = true;
    await syncNow(scope);
    expect((await status(scope)).conflicts).toBe(1);
    rest.edit('todos', Number(id), { title: 'theirs' });
    await notify({ resource: 'todos', id, type: 'updated' });
    net.online = false;
    expect(JSON.parse((await get(`/api/todos/${id}`)).body)).toMatchObject({ title: 'mine again' });
  });

  it('1,000 random malformed payloads crash nothing, change no entry, and warn once', async () => {
    await primed();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const cached = await cacheContents();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const junk = (depth = 0): unknown => {
      const pick = Math.floor(random() * 9);
      if (pick === 0) return null;
      if (pick === 1) return random() * 1e9;
      if (pick === 2) return 'x'.repeat(Math.floor(random() * 3000));
      if (pick === 3) return depth > 3 ? [] : [junk(depth + 1), junk(depth + 1)];
      if (pick === 4) return { resource: 'todos', id: [null, {}, [], 1.5, '', true, 'x'.repeat(1025)][Math.floor(random() * 7)], type: 'updated' };
      if (pick === 5) return { resource: 'users', id: '1', type: 'updated' };
      if (pick === 6) return { resource: 'todos', id: '1', type: ['updated'][Math.floor(random() * 2)] ?? 'removed', version: {} };
      if (pick === 7) return { resource: 'todos', id: '1', type: 'updated', cursor: Math.floor(random() * 9) };
      return depth > 3 ? true : { resource: junk(depth + 1), id: '1', type: 'created', __proto__: { resource: 'todos' } };
    };
    const payloads = Array.from({ length: 1000 }, () => junk());
    const before = rest.log.length;
    expect(await notify(...payloads)).toEqual({ accepted: 0, ignored: 1000 });
    expect(rest.log.length).toBe(before);
    expect(await cacheContents()).toEqual(cached);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('ignored 1000 malformed change notice(s)');
  });

  it('catch-up: after a missed window, `since` from the stored cursor refetches what changed, after a restart too', async () => {
    await primed();
    const [x, y, z] = rest.items('todos').map((i) => String(i.id));
    await notify({ resource: 'todos', id: x!, type: 'updated', cursor: 'c1' });
    // The feed was down: two changes happened; the since endpoint knows them.
    rest.edit('todos', Number(y), { title: 'missed 1' });
    rest.edit('todos', Number(z), { title: 'missed 2' });
    missed = {
      c1: {
        notices: [
          { resource: 'todos', id: y, type: 'updated', cursor: 'c2' },
          { resource: 'todos', id: z, type: 'deleted', cursor: 'c3' },
        ],
        cursor: 'c3',
      },
    };
    scope = await restartWorker(scope, importWorker);
    sinceAsked.length = 0;
    const before = rest.log.length;
    expect(await ask(scope, 'catch-up')).toBe(true);
    expect(sinceAsked).toEqual(['c1']);
    expect(refetched(before).sort()).toEqual([`/api/todos/${y!}`, '/api/todos', '/api/todos?page=1', '/api/todos?page=2', '/api/todos?page=3'].sort());
    expect(JSON.parse((await get(`/api/todos/${y!}`)).body)).toMatchObject({ title: 'missed 1' });
    expect((await cacheContents()).has(`${ORIGIN}/api/todos/${z!}`)).toBe(false);
    // The cursor moved on.
    const next = rest.log.length;
    await ask(scope, 'catch-up');
    expect(sinceAsked).toEqual(['c1', 'c3']);
    expect(refetched(next)).toEqual([]);
  });

  it('clear() empties the outbox, the caches and the cursor', async () => {
    await primed();
    await notify({ resource: 'todos', id: '1', type: 'updated', cursor: 'c9' });
    net.online = false;
    await send(scope, '/api/todos/1', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"title":"x"}' });
    net.online = true;
    expect(await ask(scope, 'clear')).toBe(true);
    expect(await status(scope)).toMatchObject({ pending: 0 });
    expect((await cacheContents()).size).toBe(0);
    sinceAsked.length = 0;
    await ask(scope, 'catch-up');
    // No cursor any more: nothing to catch up on.
    expect(sinceAsked).toEqual([]);
  });
});

describe('catch-up pages and resets', { timeout: 60_000 }, () => {
  it('a reset refetches every cached entry of the resources once, conditionally, then goes on from the new cursor', async () => {
    await primed(20);
    const id = String(rest.items('notes')[3]!.id);
    await notify({ resource: 'todos', id: String(rest.items('todos')[0]!.id), type: 'updated', cursor: 'c1' });
    rest.edit('notes', Number(id), { title: 'changed while the feed forgot us' });
    missed = { c1: { reset: true, cursor: 'r9' } };
    const cached = [...(await cacheContents()).keys()].map((url) => url.slice(ORIGIN.length));
    const before = rest.log.length;
    await ask(scope, 'catch-up');
    const gets = rest.log.slice(before).filter((r) => r.method === 'GET');
    // Each cached entry once, and nothing else; items with their ETag.
    expect(gets.map((r) => r.url).sort()).toEqual(cached.sort());
    expect(gets.filter((r) => /^\/api\/\w+\/\d+$/.test(r.url)).every((r) => r.ifNoneMatch)).toBe(true);
    expect(JSON.parse((await get(`/api/notes/${id}`)).body)).toMatchObject({ title: 'changed while the feed forgot us' });
    // The new cursor is kept, across a restart too.
    scope = await restartWorker(scope, importWorker);
    sinceAsked.length = 0;
    const next = rest.log.length;
    await ask(scope, 'catch-up');
    expect(sinceAsked).toEqual(['r9']);
    expect(refetched(next)).toEqual([]);
  });

  it('"more": true is followed by the next page at once; the notices of every page are applied together', async () => {
    await primed(20);
    const [x, y, z] = rest.items('tags').map((i) => String(i.id));
    await notify({ resource: 'tags', id: x!, type: 'updated', cursor: 'c1' });
    missed = {
      c1: { notices: [{ resource: 'tags', id: y, type: 'updated', cursor: 'c2' }], cursor: 'c2', more: true },
      c2: { notices: [{ resource: 'tags', id: z, type: 'updated', cursor: 'c3' }], cursor: 'c3' },
    };
    sinceAsked.length = 0;
    const before = rest.log.length;
    await ask(scope, 'catch-up');
    expect(sinceAsked).toEqual(['c1', 'c2']);
    // Both items, and each collection variant once for the two.
    expect(refetched(before).sort()).toEqual([`/api/tags/${y!}`, `/api/tags/${z!}`, '/api/tags', '/api/tags?page=1', '/api/tags?page=2', '/api/tags?page=3'].sort());
    await ask(scope, 'catch-up');
    expect(sinceAsked).toEqual(['c1', 'c2', 'c3']);
    // A feed that always says more is followed at most 50 pages per catch-up.
    missed = { '*': (since: string) => ({ notices: [], cursor: `${since}+`, more: true }) };
    sinceAsked.length = 0;
    await ask(scope, 'catch-up');
    expect(sinceAsked.length).toBe(50);
  });
});

describe('the echo of a write the worker made', { timeout: 60_000 }, () => {
  /** A PATCH sent live, or queued offline and replayed; resolves once the worker has refreshed the item after it. */
  async function write(id: string, how: 'live' | 'replayed'): Promise<void> {
    net.online = how === 'live';
    const before = rest.log.length;
    expect((await send(scope, `/api/todos/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"title":"mine"}' })).status).toBe(
      how === 'live' ? 200 : 202,
    );
    net.online = true;
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0);
    // The write is followed by one refresh of the item and of each collection variant.
    await until(() => refetched(before).length === 5);
  }

  it.each(['replayed', 'live'] as const)('is skipped (no refetch) when the write was %s and its answer named the cursor; the cursor still moves on', async (how) => {
    await primed(20);
    const id = String(rest.items('todos')[2]!.id);
    await write(id, how);
    expect(writeCursors).toEqual(['w1']);
    const before = rest.log.length;
    await notify({ resource: 'todos', id, type: 'updated', version: 2, cursor: 'w1' });
    expect(refetched(before)).toEqual([]);
    expect(sinceAsked.at(-1)).toBe('w1');
    // Another cursor about the same item is someone else's change: refetched.
    await notify({ resource: 'todos', id, type: 'updated', cursor: 'x7' });
    expect(refetched(before).sort()).toEqual([`/api/todos/${id}`, '/api/todos', '/api/todos?page=1', '/api/todos?page=2', '/api/todos?page=3'].sort());
  });

  it('is applied when the refresh after the write got no answer, so the cache does not stay stale', async () => {
    await primed(20);
    const id = String(rest.items('todos')[2]!.id);
    // The collection refetches after the write fail: the lists still show the old title.
    const failed: string[] = [];
    failGets = (path) => (path.startsWith('/api/todos?') || path === '/api/todos') && failed.push(path) > 0;
    net.online = false;
    await send(scope, `/api/todos/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"title":"mine"}' });
    net.online = true;
    await syncNow(scope);
    await until(async () => (await status(scope)).pending === 0);
    await until(() => failed.length === 4);
    failGets = () => false;
    const before = rest.log.length;
    await notify({ resource: 'todos', id, type: 'updated', cursor: 'w1' });
    expect(refetched(before)).toContain('/api/todos');
    expect(JSON.parse((await get('/api/todos')).body)).toContainEqual(expect.objectContaining({ id: Number(id), title: 'mine' }));
  });
});
