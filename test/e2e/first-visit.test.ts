/**
 * Open offline after one visit. On a first visit the page, its script, its
 * stylesheet and its data load before any worker controls the page, so none
 * of them went through a cache route. The drop-in worker caches the
 * manifest's exact-path routes and its `precache` list at install, and
 * register.js tells it, when the page becomes controlled, what the page had
 * loaded (Workbox's CACHE_URLS message), so the next load works with the
 * server unplugged. The app is test/fixtures/first-visit; its assets sit
 * under a pattern route (/assets/*), which only that message can fill.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { selectedEngines, skipEngine, type BrowserPage } from '../support/browsers/index.js';
import { eventually } from '../support/outbox-page.js';
import { cachedPaths, waitUntilCached } from '../support/page-caches.js';
import { useScenario } from '../support/scenario.js';
import type { Reply, TestServer } from '../support/test-server.js';

const FIXTURE = new URL('../fixtures/first-visit/', import.meta.url);
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
};

/** Serves the fixture app, with `manifest` (a fixture file) as /offline.manifest.json. */
function serveShop(server: TestServer, manifest: string): void {
  const file = (name: string) => async (): Promise<Reply> => ({ headers: { 'content-type': TYPES[name.split('.').pop()!]! }, body: await readFile(new URL(name, FIXTURE)) });
  server.on('GET', '/', file('index.html'));
  server.on('GET', '/assets/app.js', file('assets/app.js'));
  server.on('GET', '/assets/app.css', file('assets/app.css'));
  server.on('GET', '/docs/help.html', file('docs/help.html'));
  server.on('GET', '/offline.manifest.json', file(manifest));
  server.on('GET', '/api/items', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      items: [
        { id: 1, name: 'milk' },
        { id: 2, name: 'eggs' },
      ],
    }),
  });
}

/** One visit: loads the page in the fresh profile and waits until the worker controls it and has cached `expected`. */
async function visitOnce(page: BrowserPage, server: TestServer, expected: string[]): Promise<void> {
  await page.goto(`${server.origin}/`);
  await eventually(() => page.evaluate(() => navigator.serviceWorker.controller !== null), 'the worker to take control of the first page');
  // Control comes first; the worker then fetches what the page loaded.
  await waitUntilCached(page, expected);
}

/** What a user sees of the shopping list page. */
const shoppingList = (page: BrowserPage) =>
  page.evaluate<{ title: string; scriptRan: boolean; items: string; listed: string[]; color: string }>(async () => ({
    title: document.title,
    scriptRan: document.documentElement.dataset.script === 'ran',
    items: await (window as unknown as { itemsShown: Promise<string> }).itemsShown,
    listed: [...document.querySelectorAll('#items li')].map((li) => li.textContent ?? ''),
    color: getComputedStyle(document.getElementById('items')!).color,
  }));

const SHOWN = { title: 'Shopping list', scriptRan: true, items: 'shown', listed: ['milk', 'eggs'], color: 'rgb(0, 128, 0)' };

describe.each(selectedEngines())('the first visit in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    describe('the page and what it loaded', () => {
      const scenario = useScenario(engine, (server) => serveShop(server, 'offline.manifest.json'));

      it('opens with the server unplugged after one visit: page, script, stylesheet and data', async () => {
        const { server, page } = scenario;
        const expected = ['/', '/api/items', '/assets/app.css', '/assets/app.js', '/register.js'];
        await visitOnce(page, server, expected);
        expect(await shoppingList(page)).toEqual(SHOWN);
        // Only what a cache route names is kept (not the manifest the page fetched, for one).
        expect(await cachedPaths(page)).toEqual(expected);

        await server.unplug();
        await page.reload();
        expect(await shoppingList(page)).toEqual(SHOWN);
        expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
      });
    });

    describe('a page listed in "precache"', () => {
      const scenario = useScenario(engine, (server) => serveShop(server, 'precache.manifest.json'));

      it('opens offline though the first visit never loaded it', async () => {
        const { server, page } = scenario;
        await visitOnce(page, server, ['/', '/api/items', '/assets/app.css', '/assets/app.js', '/docs/help.html', '/register.js']);

        await server.unplug();
        await page.goto(`${server.origin}/docs/help.html`);
        expect(await page.evaluate(() => ({ title: document.title, heading: document.getElementById('help')?.textContent }))).toEqual({
          title: 'Help',
          heading: 'How to use the shopping list',
        });
        // And back to the list, as a user following links would.
        await page.goto(`${server.origin}/`);
        expect(await shoppingList(page)).toEqual(SHOWN);
      });
    });
  });
});
