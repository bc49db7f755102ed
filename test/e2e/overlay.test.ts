/**
 * Read-your-writes in real browsers, against a REST server that assigns
 * integer ids and strong ETags (test/support/rest-store.ts behind the real
 * test server): what the page reads while offline, across reloads; the
 * server's final state; and conflicts under each policy.
 */
import { describe, expect, it } from 'vitest';
import type { EntrySummary, OutboxStatus } from '../../common/messages.js';
import { controllerUrl, pageFetch, serveApp, waitForActiveWorker, type PageFetch } from '../support/app-page.js';
import { selectedEngines, skipEngine } from '../support/browsers/index.js';
import { eventually, outboxCall } from '../support/outbox-page.js';
import { createRestStore } from '../support/rest-store.js';
import { useScenario } from '../support/scenario.js';

const resource = (name: string, conflict: string) => ({
  routes: [
    { match: `/api/${name}`, methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: `/api/${name}/:id`, methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: `/api/${name}`, methods: ['POST'], queue: {}, resource: name },
    { match: `/api/${name}/:id`, methods: ['PUT', 'PATCH', 'DELETE'], queue: { conflict }, resource: name },
  ],
  spec: { collection: `/api/${name}`, item: `/api/${name}/:id`, ids: 'server', updatedAtField: 'updatedAt', pendingField: '_pending' },
});
const POLICIES = { todos: 'manual', serverwins: 'server-wins', clientwins: 'client-wins', newest: 'newest-wins' } as const;
const declared = Object.entries(POLICIES).map(([name, policy]) => [name, resource(name, policy)] as const);
const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/register.js', cache: { strategy: 'stale-while-revalidate' } },
    ...declared.flatMap(([, r]) => r.routes),
  ],
  resources: Object.fromEntries(declared.map(([name, r]) => [name, r.spec])),
};

type Item = Record<string, unknown> & { id: number | string };
const body = (r: PageFetch) => JSON.parse(r.body!) as unknown;
const strip = (items: Item[]) => items.map(({ title, done }) => ({ title, done }));

describe.each(selectedEngines())('read-your-writes in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    const rest = createRestStore();
    const scenario = useScenario(engine, (server) => {
      serveApp(server, manifest);
      server.onPrefix('/api/', (request) => rest.handle(request));
    });
    const json = (method: string, value: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
    const get = (path: string) => pageFetch(scenario.page, path);
    const send = (path: string, init: RequestInit) => pageFetch(scenario.page, path, init);
    const gets = () => scenario.server.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/api/')).length;

    async function ready(): Promise<void> {
      const { server, page } = scenario;
      rest.reset();
      await page.goto(`${server.origin}/`);
      await waitForActiveWorker(page);
      await page.reload();
      expect(await controllerUrl(page)).not.toBeNull();
    }

    async function synced(): Promise<void> {
      await scenario.server.plug();
      await outboxCall(scenario.page, 'syncNow');
      await eventually(async () => {
        const s = await outboxCall<OutboxStatus>(scenario.page, 'status');
        return s.pending + s.inFlight === 0;
      }, 'the outbox to empty');
    }

    it('offline create, edit and delete show in every list and item GET, across a reload; online, the server ends the same', async () => {
      const { server, page } = scenario;
      await ready();
      const milk = rest.seed('todos', { title: 'milk', done: false });
      const eggs = rest.seed('todos', { title: 'eggs', done: false });
      expect(body(await get('/api/todos'))).toEqual([milk, eggs]);
      await get(`/api/todos/${milk.id}`);
      await get(`/api/todos/${eggs.id}`);

      await server.unplug();
      const created = await send('/api/todos', json('POST', { title: 'bread', done: false }));
      expect(created.status).toBe(202);
      const bread = body(created) as Item;
      expect(bread).toMatchObject({ title: 'bread', done: false, id: expect.any(String) });
      expect((await send(`/api/todos/${milk.id}`, json('PATCH', { done: true }))).status).toBe(202);
      expect((await send(`/api/todos/${eggs.id}`, { method: 'DELETE' })).status).toBe(202);
      expect((await send(`/api/todos/${bread.id}`, json('PATCH', { title: 'rye bread' }))).status).toBe(202);

      const offlineView = async () => {
        const list = await get('/api/todos');
        expect(list.headers!['x-outbox-pending']).toBe('4');
        expect(body(list)).toEqual([
          { ...milk, done: true, _pending: true },
          { title: 'rye bread', done: false, id: bread.id, _pending: true },
        ]);
        expect(await get(`/api/todos/${milk.id}`)).toMatchObject({ status: 200, headers: { 'x-outbox-pending': '1' } });
        expect(body(await get(`/api/todos/${bread.id}`))).toMatchObject({ title: 'rye bread', _pending: true });
        expect((await get(`/api/todos/${eggs.id}`)).status).toBe(404);
      };
      await offlineView();
      await page.reload();
      await offlineView();
      const before = gets();
      expect(before).toBeGreaterThan(0);

      await synced();
      expect(strip(rest.items('todos') as Item[])).toEqual([
        { title: 'milk', done: true },
        { title: 'rye bread', done: false },
      ]);
      // The server got the create first, then the edit at the id it assigned.
      const writes = rest.log.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`);
      expect(writes.indexOf('POST /api/todos')).toBeLessThan(writes.indexOf('PATCH /api/todos/3'));
      expect(writes).toContain(`DELETE /api/todos/${eggs.id}`);
      // Once delivered, the cache is revalidated: the page reads the server's state, no overlay.
      await eventually(async () => JSON.stringify(body(await get('/api/todos'))) === JSON.stringify(rest.items('todos')), 'the list to show the server state');
      expect((await get('/api/todos')).headers!['x-outbox-pending']).toBeUndefined();
    });

    it('manual: an edit made on the server meanwhile parks the local change; resolve settles it', async () => {
      const { server } = scenario;
      await ready();
      const item = rest.seed('todos', { title: 'original', done: false });
      await get(`/api/todos/${item.id}`);
      await server.unplug();
      expect((await send(`/api/todos/${item.id}`, json('PATCH', { title: 'mine' }))).status).toBe(202);
      rest.edit('todos', item.id, { title: 'theirs' });
      await server.plug();
      await outboxCall(scenario.page, 'syncNow');
      let parked: EntrySummary | undefined;
      await eventually(async () => {
        [parked] = await outboxCall<EntrySummary[]>(scenario.page, 'entries');
        return parked?.state === 'conflict';
      }, 'the conflict to be parked');
      expect(parked).toMatchObject({ lastStatus: 412, server: { title: 'theirs' } });
      expect(body(await get(`/api/todos/${item.id}`))).toMatchObject({ title: 'mine' });

      expect(await outboxCall(scenario.page, 'resolve', parked!.id, { action: 'replace', body: { title: 'mine, then theirs' } })).toBe(true);
      await synced();
      expect(rest.items('todos')[0]).toMatchObject({ title: 'mine, then theirs' });
      const patches = rest.log.filter((r) => r.method === 'PATCH');
      expect(patches.map((p) => p.ifMatch)).toEqual([`"${item.id}-v1"`, `"${item.id}-v2"`]);
    });

    it('server-wins, client-wins and newest-wins each settle a conflict as they say', async () => {
      const { server } = scenario;
      await ready();
      const items = Object.fromEntries(['serverwins', 'clientwins', 'newest'].map((name) => [name, rest.seed(name, { title: 'original' })]));
      for (const [name, item] of Object.entries(items)) await get(`/api/${name}/${item.id}`);
      await server.unplug();
      for (const [name, item] of Object.entries(items)) expect((await send(`/api/${name}/${item.id}`, json('PATCH', { title: 'mine' }))).status).toBe(202);
      rest.edit('serverwins', items.serverwins!.id, { title: 'theirs' });
      rest.edit('clientwins', items.clientwins!.id, { title: 'theirs' });
      // Edited on the server after the local change: newest-wins keeps the server's.
      rest.edit('newest', items.newest!.id, { title: 'theirs' }, Date.now() + 60_000);
      await synced();
      await eventually(async () => (await outboxCall<EntrySummary[]>(scenario.page, 'entries')).length === 0, 'every conflict settled');
      expect(rest.items('serverwins')[0]).toMatchObject({ title: 'theirs' });
      expect(rest.items('clientwins')[0]).toMatchObject({ title: 'mine' });
      expect(rest.items('newest')[0]).toMatchObject({ title: 'theirs' });
      // What the page reads is the server's version once the local change is gone.
      await eventually(async () => (body(await get(`/api/serverwins/${items.serverwins!.id}`)) as Item).title === 'theirs', 'server-wins to revalidate');
      const cw = rest.log.filter((r) => r.method === 'PATCH' && r.url.startsWith('/api/clientwins/'));
      expect(cw.map((r) => r.ifMatch === undefined)).toEqual([false, true]);
    });
  });
});
