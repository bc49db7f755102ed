/**
 * Change notices in real browsers: the page holds the SSE connection, the
 * worker refreshes only what a notice names, and after an offline window it
 * catches up from its cursor. The edit comes from a second browser (its own
 * profile, no worker), as another user's would.
 */
import { describe, expect, it } from 'vitest';
import { controllerUrl, pageFetch, serveApp, waitForActiveWorker } from '../support/app-page.js';
import { selectedEngines, skipEngine, type BrowserSession } from '../support/browsers/index.js';
import { createChangeFeed } from '../support/change-feed.js';
import { eventually } from '../support/outbox-page.js';
import { createRestStore } from '../support/rest-store.js';
import { useScenario } from '../support/scenario.js';

const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/register.js', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/api/todos', methods: ['GET'], cache: { strategy: 'network-first' } },
    // cache-first: a fresh item can only come from the worker having refreshed its cache.
    { match: '/api/todos/:id', methods: ['GET'], cache: { strategy: 'cache-first' } },
  ],
  resources: { todos: { collection: '/api/todos', item: '/api/todos/:id', ids: 'server' } },
  changes: { stream: '/api/changes/stream', since: '/api/changes?since={cursor}' },
};
const OTHER_PAGE = '<!doctype html><meta charset="utf-8"><title>another user</title><p>no offline support here</p>';

describe.each(selectedEngines())('change notices in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    const feed = createChangeFeed();
    const rest = createRestStore({ onChange: (change) => feed.publish(change) });
    const scenario = useScenario(engine, (server) => {
      serveApp(server, manifest);
      server.on('GET', '/other', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: OTHER_PAGE });
      server.on('GET', '/api/changes/stream', () => feed.stream());
      server.on('GET', '/api/changes', (request) => feed.since(request.url));
      server.onPrefix('/api/', (request) => rest.handle(request));
    });
    const title = async (id: number) => (JSON.parse((await pageFetch(scenario.page, `/api/todos/${id}`)).body!) as { title: string }).title;
    /** The API GETs the server got since `from`, feed requests aside. */
    const apiGets = (from: number) =>
      scenario.server.requests
        .slice(from)
        .filter((r) => r.method === 'GET' && r.url.startsWith('/api/todos'))
        .map((r) => r.url);

    it('an edit made in another browser refreshes only the affected cached GETs, without a reload; after an offline window, since catches up', async () => {
      const { server, page } = scenario;
      const todos = ['milk', 'eggs', 'bread'].map((t) => rest.seed('todos', { title: t }));
      await page.goto(`${server.origin}/`);
      await waitForActiveWorker(page);
      await page.reload();
      expect(await controllerUrl(page)).not.toBeNull();
      await eventually(() => feed.connections > 0, 'the page to connect to the change feed');
      await pageFetch(page, '/api/todos');
      for (const t of todos) expect(await title(t.id)).toBe(t.title);

      let other: BrowserSession | undefined;
      try {
        other = await engine.launch();
        const otherPage = await other.newPage();
        await otherPage.goto(`${server.origin}/other`);
        const from = server.requests.length;
        const edit = await pageFetch(otherPage, `/api/todos/${todos[1]!.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: '{"title":"eggs (edited in another browser)"}',
        });
        expect(edit.status).toBe(200);
        await eventually(async () => (await title(todos[1]!.id)) === 'eggs (edited in another browser)', 'the cached item to be fresh');
        // The item is announced fresh before the list's refetch ends: wait for that too.
        await eventually(() => apiGets(from).includes('/api/todos'), 'the list to be refetched');
        // Only the item and the list were fetched again; the other items were not touched.
        expect(new Set(apiGets(from))).toEqual(new Set([`/api/todos/${todos[1]!.id}`, '/api/todos']));
      } finally {
        await other?.close();
      }

      // Offline: the server is unplugged (the feed drops); a change happens meanwhile.
      const cursor = feed.log.at(-1)!.cursor;
      await server.unplug();
      rest.edit('todos', todos[2]!.id, { title: 'bread (changed while away)' });
      expect(await title(todos[2]!.id)).toBe('bread');
      const from = server.requests.length;
      await server.plug();
      await eventually(async () => (await title(todos[2]!.id)) === 'bread (changed while away)', 'the catch-up to refresh the item', 60_000);
      expect(server.received('/api/changes', 'GET').map((r) => r.url)).toContain(`/api/changes?since=${cursor}`);
      await eventually(() => apiGets(from).includes('/api/todos'), 'the list to be refetched');
      expect(new Set(apiGets(from))).toEqual(new Set([`/api/todos/${todos[2]!.id}`, '/api/todos']));
    });
  });
});
