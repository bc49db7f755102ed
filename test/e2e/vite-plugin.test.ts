/**
 * A Vite app adopts offline-outbox with the plugin alone: test/fixtures/vite-app
 * (a page whose module imports a stylesheet and fetches /items.json) is built
 * with `offlineOutbox()` from dist/vite.mjs, as the package ships it, and
 * served by `vite preview`. After one visit it opens with the server
 * unplugged: the hashed script and stylesheet Vite wrote under /assets/, and
 * the data, all from the worker the plugin emitted.
 *
 * `vite preview` cannot be unplugged, so the browser reaches it through the
 * test server, which forwards every request and is what gets unplugged:
 * offline made real, as in the other end-to-end tests. Chromium only: what
 * this adds to the other scenarios is the build, which no engine changes.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectedEngines, skipEngine, type BrowserPage } from '../support/browsers/index.js';
import { eventually } from '../support/outbox-page.js';
import { waitUntilCached } from '../support/page-caches.js';
import { useScenario } from '../support/scenario.js';
import type { RecordedRequest, Reply } from '../support/test-server.js';

type VitePlugin = typeof import('../../vite/index.js');

const BUILT_PLUGIN = fileURLToPath(new URL('../../dist/vite.mjs', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/vite-app/', import.meta.url));

// fetch decodes the body, so its length and encoding no longer hold; the rest are the connection's own.
// Everything else passes as preview sent it, `Vary: Origin` included (Vite's CORS middleware adds it, as
// many hosts do): with the `crossorigin` Vite puts on its script and stylesheet tags, Chromium sends
// those requests with an Origin header that the worker's first-visit fetches do not have.
const NOT_FORWARDED = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** The test server's answer: whatever `vite preview` answers the same request. */
async function forward(origin: string, request: RecordedRequest): Promise<Reply> {
  const response = await fetch(new URL(request.url, origin), {
    method: request.method,
    headers: request.headers.accept ? { accept: request.headers.accept } : {},
    body: request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body,
    redirect: 'manual',
  });
  const headers = Object.fromEntries([...response.headers].filter(([name]) => !NOT_FORWARDED.has(name)));
  return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
}

/** What a user sees of the shopping list page, and where its script came from. */
const shoppingList = (page: BrowserPage) =>
  page.evaluate<{ title: string; script: string; scriptRan: boolean; items: string; listed: string[]; color: string }>(async () => ({
    title: document.title,
    script: new URL((document.querySelector('script[type="module"]') as HTMLScriptElement).src).pathname,
    scriptRan: document.documentElement.dataset.script === 'ran',
    items: await (window as unknown as { itemsShown: Promise<string> }).itemsShown,
    listed: [...document.querySelectorAll('#items li')].map((li) => li.textContent ?? ''),
    color: getComputedStyle(document.getElementById('items')!).color,
  }));

const chromiumOnly = selectedEngines().filter((engine) => engine.name === 'chromium');

describe.each(chromiumOnly)('a Vite app built with offline-outbox/vite, in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    let app: string | undefined;
    let server: PreviewServer | undefined;
    let previewOrigin = '';
    let assets: string[] = [];

    // Registered before the scenario's own, so the app is built and served before the browser starts.
    beforeAll(async () => {
      if (!existsSync(BUILT_PLUGIN)) throw new Error(`${BUILT_PLUGIN} is missing: run npm run build first (the test uses the plugin as the package ships it)`);
      const { offlineOutbox } = (await import(pathToFileURL(BUILT_PLUGIN).href)) as VitePlugin;
      app = mkdtempSync(join(tmpdir(), 'offline-outbox-vite-e2e-'));
      cpSync(FIXTURE, app, { recursive: true });
      await build({ root: app, configFile: false, logLevel: 'silent', plugins: [offlineOutbox()] });
      assets = readdirSync(join(app, 'dist', 'assets')).map((name) => `/assets/${name}`);
      server = await preview({ root: app, configFile: false, logLevel: 'silent', preview: { host: '127.0.0.1', port: 0, open: false } });
      previewOrigin = `http://127.0.0.1:${(server.httpServer.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await server?.close();
      if (app) rmSync(app, { recursive: true, force: true });
    });

    const scenario = useScenario(engine, (testServer) => testServer.onPrefix('/', (request) => forward(previewOrigin, request)));

    it('opens with the server unplugged after one visit: its hashed script and stylesheet, and its data', async () => {
      const { server: testServer, page } = scenario;
      expect(assets.map((path) => path.replace(/-[\w-]{8}\./, '-#.')).sort()).toEqual(['/assets/index-#.css', '/assets/index-#.js']);
      const script = assets.find((path) => path.endsWith('.js'))!;
      const shown = { title: 'Shopping list', script, scriptRan: true, items: 'shown', listed: ['milk', 'eggs'], color: 'rgb(0, 128, 0)' };

      await page.goto(`${testServer.origin}/`);
      expect(await shoppingList(page)).toEqual(shown);
      await eventually(() => page.evaluate(() => navigator.serviceWorker.controller !== null), 'the worker to take control of the first page');
      expect(await page.evaluate(() => new URL(navigator.serviceWorker.controller!.scriptURL).pathname)).toBe('/sw.js');
      // Control comes first; the worker then fetches what the page loaded before it.
      const expected = ['/', ...assets, '/items.json', '/register.js'].sort();
      const cached = await waitUntilCached(page, expected);
      expect(cached).toEqual(expected);

      await testServer.unplug();
      await page.reload();
      expect(await shoppingList(page)).toEqual(shown);
      expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    });
  });
});
