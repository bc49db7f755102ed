/**
 * An app with its own Workbox worker adopting offline-outbox through its
 * seams: the worker (test/fixtures/workbox-app/sw.js) precaches the app
 * shell with workbox-precaching, serves GET /api/todos[/:id] with
 * NetworkFirst plus ReadYourWritesPlugin, and answers writes with
 * OutboxStrategy; `offline-outbox/sw` is bundled into it by rollup as an
 * app's build would. The page is the app's own (index.html, app.js); the
 * test drives it the way a user would and checks what they would see.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntrySummary, OutboxStatus } from '../../common/messages.js';
import { pageFetch } from '../support/app-page.js';
import { selectedEngines, skipEngine, type BrowserPage } from '../support/browsers/index.js';
import { eventually } from '../support/outbox-page.js';
import { useScenario } from '../support/scenario.js';
import type { RecordedRequest, Reply, TestServer } from '../support/test-server.js';
import { bundleWorker } from '../support/workbox-bundle.js';

const FIXTURE = new URL('../fixtures/workbox-app/', import.meta.url);
const DIST = new URL('../../dist/', import.meta.url);
const SCRIPT = { 'content-type': 'text/javascript; charset=utf-8' };
const JSON_TYPE = { 'content-type': 'application/json' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Todo {
  id: string;
  title: string;
  done: boolean;
}

/** What the app's page script (fixtures/workbox-app/app.js) answers about a write. */
interface Sent {
  status: number;
  queued: string | null;
  item: Todo | null;
}

/** `window.todoApp`, as app.js defines it. */
interface AppWindow {
  todoApp: {
    rendered: Promise<unknown>;
    render(): Promise<Todo[]>;
    create(title: string): Promise<Sent>;
    edit(id: string, patch: object): Promise<Sent>;
    outbox: { status(): Promise<OutboxStatus>; entries(): Promise<EntrySummary[]>; syncNow(): Promise<OutboxStatus> };
  };
}

let appWorker = '';
beforeAll(async () => {
  appWorker = await bundleWorker(new URL('sw.js', FIXTURE));
});

/**
 * The app's REST API for todos, with ids chosen by the client (the resource
 * declares `ids: "client-uuid"`): a create without one is refused, as such
 * a server would, so a write the worker failed to complete shows up.
 */
function serveTodos(server: TestServer) {
  const items = new Map<string, Todo>([['milk-1', { id: 'milk-1', title: 'milk', done: false }]]);
  const json = (status: number, body: unknown): Reply => ({ status, headers: JSON_TYPE, body: JSON.stringify(body) });
  server.onPrefix('/api/todos', (request) => {
    const path = request.url.split('?')[0]!;
    const id = path === '/api/todos' ? undefined : decodeURIComponent(path.slice('/api/todos/'.length));
    const body = request.body ? (JSON.parse(request.body) as Partial<Todo>) : {};
    if (id === undefined) {
      if (request.method === 'GET') return json(200, [...items.values()]);
      if (request.method !== 'POST') return json(405, { error: 'method not allowed' });
      if (typeof body.id !== 'string') return json(422, { error: 'a todo is created with its id' });
      items.set(body.id, body as Todo);
      return json(201, body);
    }
    const item = items.get(id);
    if (!item) return json(404, { error: 'no such todo' });
    if (request.method === 'GET') return json(200, item);
    if (request.method === 'DELETE') {
      items.delete(id);
      return { status: 204 };
    }
    const next = { ...(request.method === 'PATCH' ? item : {}), ...body, id } as Todo;
    items.set(id, next);
    return json(200, next);
  });
  return items;
}

/** The writes the server received, in arrival order. */
const writesReceived = (server: TestServer): RecordedRequest[] => server.requests.filter((r) => r.method !== 'GET' && r.url.startsWith('/api/todos'));

const outboxStatus = (page: BrowserPage) => page.evaluate<OutboxStatus>(() => (window as unknown as AppWindow).todoApp.outbox.status());

/** The paths workbox-precaching's cache holds (its keys carry a `__WB_REVISION__` query). */
const precached = (page: BrowserPage) =>
  page.evaluate<string[]>(async () => {
    const paths: string[] = [];
    for (const name of await caches.keys())
      if (name.startsWith('workbox-precache')) for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
    return paths.sort();
  });

/** The list as the page shows it, and its "waiting to sync" count. */
const shown = (page: BrowserPage) =>
  page.evaluate<{ rendered: string; items: string[]; pending: string | undefined }>(async () => {
    const rendered = await (window as unknown as AppWindow).todoApp.rendered;
    return {
      rendered: typeof rendered === 'string' ? rendered : 'ok',
      items: [...document.querySelectorAll('#todos li')].map((li) => li.textContent),
      pending: document.getElementById('pending')?.textContent,
    };
  });

describe.each(selectedEngines())('a Workbox app with OutboxStrategy in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    let stored: Map<string, Todo>;
    const scenario = useScenario(engine, (server) => {
      const file = (name: string, base: URL, headers: Record<string, string>) => async (): Promise<Reply> => ({ headers, body: await readFile(new URL(name, base)) });
      server.on('GET', '/', file('index.html', FIXTURE, { 'content-type': 'text/html; charset=utf-8' }));
      server.on('GET', '/app.js', file('app.js', FIXTURE, SCRIPT));
      server.on('GET', '/outbox-client.mjs', file('client.mjs', DIST, SCRIPT));
      server.on('GET', '/sw.js', () => ({ headers: SCRIPT, body: appWorker }));
      stored = serveTodos(server);
    });

    it('answers writes made offline with 202, shows them in the list and after an offline reload, and delivers each once, in order, with a key', async () => {
      const { server, page } = scenario;
      await page.goto(`${server.origin}/`);
      await eventually(() => page.evaluate(() => navigator.serviceWorker.controller !== null), 'the app worker to control the page');
      // Read once online through the worker, so NetworkFirst has the server's
      // list, and the item about to be edited (its 202 is that item, merged).
      const milk: Todo = { id: 'milk-1', title: 'milk', done: false };
      expect(await page.evaluate(() => (window as unknown as AppWindow).todoApp.render())).toEqual([milk]);
      expect(JSON.parse((await pageFetch(page, '/api/todos/milk-1')).body ?? 'null')).toEqual(milk);

      await server.unplug();
      const [eggs, bread, eggsDone, oatMilk] = await page.evaluate<[Sent, Sent, Sent, Sent]>(async () => {
        const app = (window as unknown as AppWindow).todoApp;
        const eggs = await app.create('eggs');
        const bread = await app.create('bread');
        if (!eggs.item) throw new Error(`creating "eggs" offline was answered ${eggs.status} with no item to edit`);
        return [eggs, bread, await app.edit(eggs.item.id, { done: true }), await app.edit('milk-1', { title: 'oat milk' })];
      });
      for (const sent of [eggs, bread, eggsDone, oatMilk]) {
        expect(sent.status).toBe(202);
        expect(sent.queued).toBeTruthy();
      }
      // The optimistic items: a create is its body plus the id the worker gave it; an edit is the merged item.
      expect(eggs.item).toEqual({ id: expect.stringMatching(UUID), title: 'eggs', done: false });
      expect(bread.item).toEqual({ id: expect.stringMatching(UUID), title: 'bread', done: false });
      const eggsId = eggs.item!.id;
      const breadId = bread.item!.id;
      expect(breadId).not.toBe(eggsId);
      expect(eggsDone.item).toEqual({ id: eggsId, title: 'eggs', done: true });
      expect(oatMilk.item).toEqual({ id: 'milk-1', title: 'oat milk', done: false });
      const status = await outboxStatus(page);
      expect(status.pending + status.inFlight).toBe(4);
      expect(status).toMatchObject({ dead: 0, conflicts: 0 });
      // Each 202 names the outbox entry that holds the write.
      const entries = await page.evaluate<EntrySummary[]>(() => (window as unknown as AppWindow).todoApp.outbox.entries());
      expect(entries.map((e) => `${e.id} ${e.method} ${new URL(e.url).pathname}`).sort()).toEqual(
        [
          `${eggs.queued} POST /api/todos`,
          `${bread.queued} POST /api/todos`,
          `${eggsDone.queued} PATCH /api/todos/${eggs.item!.id}`,
          `${oatMilk.queued} PATCH /api/todos/milk-1`,
        ].sort(),
      );

      const expected: Todo[] = [
        { id: 'milk-1', title: 'oat milk', done: false },
        { id: eggsId, title: 'eggs', done: true },
        { id: breadId, title: 'bread', done: false },
      ];
      const list = await pageFetch(page, '/api/todos');
      expect(list).toMatchObject({ ok: true, status: 200 });
      expect(list.headers!['x-outbox-pending']).toBe('4');
      expect(JSON.parse(list.body!)).toEqual(expected);
      // An item created offline is readable offline, though nothing of it was ever cached.
      const item = await pageFetch(page, `/api/todos/${eggsId}`);
      expect(item).toMatchObject({ ok: true, status: 200 });
      expect(JSON.parse(item.body!)).toEqual(expected[1]);
      expect(item.headers!['x-outbox-pending']).toBeTruthy();

      // Offline, the page and its scripts can only come from the precache.
      await page.reload();
      expect(await page.evaluate(() => document.title)).toBe('Todos');
      expect(await precached(page)).toEqual(['/', '/app.js', '/outbox-client.mjs']);
      expect(await shown(page)).toEqual({ rendered: 'ok', items: ['oat milk', 'eggs (done)', 'bread'], pending: '4' });
      expect(writesReceived(server)).toEqual([]);

      await server.plug();
      await page.evaluate(() => (window as unknown as AppWindow).todoApp.outbox.syncNow());
      await eventually(
        async () => {
          if (writesReceived(server).length < 4) return false;
          const { pending, inFlight } = await outboxStatus(page);
          return pending + inFlight === 0;
        },
        'the server to receive the 4 writes and the outbox to empty',
        60_000,
      );

      const writes = writesReceived(server);
      const seen = writes.map((r) => ({ method: r.method, path: r.url, body: JSON.parse(r.body) as unknown }));
      const eggsWrites = [
        { method: 'POST', path: '/api/todos', body: { id: eggsId, title: 'eggs', done: false } },
        { method: 'PATCH', path: `/api/todos/${eggsId}`, body: { done: true } },
      ];
      const otherWrites = [
        { method: 'POST', path: '/api/todos', body: { id: breadId, title: 'bread', done: false } },
        { method: 'PATCH', path: '/api/todos/milk-1', body: { title: 'oat milk' } },
      ];
      // Exactly once each: four writes, every one of the four made. Writes to
      // one item keep the order they were made in (the create before the
      // edit); other items are other groups, sent independently.
      expect(seen).toHaveLength(4);
      expect(seen).toEqual(expect.arrayContaining([...eggsWrites, ...otherWrites]));
      expect(seen.filter((w) => w.path === `/api/todos/${eggsId}` || (w.body as Todo).id === eggsId)).toEqual(eggsWrites);
      const keys = writes.map((r) => r.headers['idempotency-key']);
      expect(keys.every((k) => /^"[0-9a-f-]{36}"$/.test(k ?? ''))).toBe(true);
      expect(new Set(keys).size).toBe(4);
      expect(await outboxStatus(page)).toMatchObject({ pending: 0, inFlight: 0, dead: 0, conflicts: 0 });

      // Online again, the list is the server's, and it holds what the page
      // showed offline (the two creates may have reached it in either order).
      const byId = (a: Todo, b: Todo) => a.id.localeCompare(b.id);
      expect([...stored.values()].sort(byId)).toEqual([...expected].sort(byId));
      await page.evaluate(() => (window as unknown as AppWindow).todoApp.render());
      const online = await shown(page);
      expect(online).toMatchObject({ rendered: 'ok', pending: '0' });
      expect([...online.items].sort()).toEqual(['bread', 'eggs (done)', 'oat milk']);
    });
  });
});
