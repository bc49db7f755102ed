/**
 * Nothing fails silently (issue 12): a cache route whose answers the worker
 * refuses to store, and a worker whose scope leaves the page out, are each
 * said in the page's console with the fix, at once, and the first also in
 * `status().notCached` and `<outbox-status>`. Run as an adopter met them:
 * a backend that sends its page and scripts with `Cache-Control: no-store`
 * (json-server does), and register.js served from a sub-folder.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { NotCached } from '../../common/messages.js';
import { controllerUrl, PAGE_HTML, pageConsole, setManifest, waitForActiveWorker, waitForConsole } from '../support/app-page.js';
import { selectedEngines, skipEngine, type BrowserPage } from '../support/browsers/index.js';
import { eventually, outboxCall } from '../support/outbox-page.js';
import { useScenario } from '../support/scenario.js';

const DIST = new URL('../../dist/', import.meta.url);
const HTML = { 'content-type': 'text/html; charset=utf-8' };
const SCRIPT = { 'content-type': 'text/javascript; charset=utf-8' };

const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/app.js', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/register.js', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/outbox-status.js', cache: { strategy: 'stale-while-revalidate' } },
  ],
};

const NOT_CACHED_FIX = 'send "Cache-Control: no-cache" (stored, and revalidated on every online visit) or a max-age for it instead';

/** The console lines about routes that are not cached, in order. */
const notCachedLines = async (page: BrowserPage) => (await pageConsole(page)).filter((line) => line.includes('will not load offline: the server sent'));

/** What `<outbox-status>` says about them (its details line), or null while hidden. */
const detailsLine = (page: BrowserPage) =>
  page.evaluate(() => {
    const part = document.querySelector('outbox-status')?.shadowRoot?.querySelector('[part~="not-cached"]');
    return part && !part.closest('[hidden]') ? part.textContent : null;
  });

describe.each(selectedEngines())('no silent failures in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    let noStore = true;
    const scenario = useScenario(engine, (server) => {
      const page = PAGE_HTML.replace('<script src="/register.js" defer></script>', '<script src="/app.js" defer></script><script src="/register.js" defer data-ui></script>');
      // json-server's static files: every answer `Cache-Control: no-store`, until the test "fixes" the server.
      const headers = (type: Record<string, string>) => ({ ...type, 'cache-control': noStore ? 'no-store' : 'no-cache' });
      server.on('GET', '/', () => ({ headers: headers(HTML), body: page }));
      server.on('GET', '/app.js', () => ({ headers: headers(SCRIPT), body: 'document.title = "app";' }));
      setManifest(server, manifest);
      // A sub-folder copy of the drop-in files, and a page that loads register.js from there.
      server.on('GET', '/static/register.js', async () => ({ headers: SCRIPT, body: await readFile(new URL('register.js', DIST)) }));
      server.on('GET', '/static/sw.js', async () => ({ headers: SCRIPT, body: await readFile(new URL('sw.js', DIST)) }));
      server.on('GET', '/static/offline.manifest.json', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(manifest) });
      server.on('GET', '/sub', { headers: HTML, body: PAGE_HTML.replace('src="/register.js"', 'src="/static/register.js"') });
    });

    it('a route answered with Cache-Control: no-store: one warning per route with the fix, status().notCached, and a details line', async () => {
      const { server, page } = scenario;
      noStore = true;
      await page.goto(`${server.origin}/`);
      await waitForActiveWorker(page);
      // The install tried to cache the exact-path routes and was refused: the first visit hears it live.
      await waitForConsole(page, '(route "/app.js")');
      await page.reload();
      expect(await controllerUrl(page)).not.toBeNull();

      // A later visit hears it too, once per route, from status().
      await eventually(async () => (await notCachedLines(page)).length >= 2, 'the warnings on the second visit');
      const lines = await notCachedLines(page);
      expect(lines.map((line) => /\(route "([^"]+)"\)/.exec(line)?.[1]).sort()).toEqual(['/', '/app.js']);
      for (const line of lines) {
        expect(line).toMatch(/^warn: offline-outbox: http:\/\/127\.0\.0\.1:\d+\/(app\.js)? will not load offline: the server sent "Cache-Control: no-store" \(route "[^"]+"\)\. /);
        expect(line).toContain(`Fix: ${NOT_CACHED_FIX}.`);
      }

      const status = await outboxCall<{ notCached: NotCached[] }>(page, 'status');
      expect(status.notCached.map(({ route, header, url }) => ({ route, header, path: new URL(url).pathname })).sort((a, b) => a.route.localeCompare(b.route))).toEqual([
        { route: '/', header: 'Cache-Control: no-store', path: '/' },
        { route: '/app.js', header: 'Cache-Control: no-store', path: '/app.js' },
      ]);
      await eventually(async () => (await detailsLine(page)) !== null, 'the details line');
      expect(await detailsLine(page)).toMatch(/^Will not open offline: (\/, \/app\.js|\/app\.js, \/) \(the server sends Cache-Control: no-store; see the console\)$/);
      // Not an idle pill while something needs fixing.
      expect(await page.evaluate(() => document.querySelector('outbox-status')!.hasAttribute('compact'))).toBe(false);

      // The server is fixed: the next answers are stored and the reports go.
      noStore = false;
      await page.reload();
      await page.evaluate(() => fetch('/app.js').then((r) => r.text()));
      await eventually(async () => (await outboxCall<{ notCached: NotCached[] }>(page, 'status')).notCached.length === 0, 'the reports to clear');
      await eventually(async () => (await detailsLine(page)) === null, 'the details line to go');
    });

    it("register.js from a sub-folder: the worker's scope leaves the page out, and the console says so at once, with the fix", async () => {
      const { server, page } = scenario;
      await page.goto(`${server.origin}/sub`);
      const line = await waitForConsole(page, "outside the worker's scope");
      expect(line).toMatch(/^error: offline-outbox: this page is outside the worker's scope \(http:\/\/127\.0\.0\.1:\d+\/static\/\): it works online only\. /);
      expect(line).toContain('Fix: serve sw.js from the site\'s root, or send "Service-Worker-Allowed: /" with it and set data-scope="/".');
      expect((await pageConsole(page)).filter((l) => l.includes("outside the worker's scope"))).toHaveLength(1);
    });
  });
});
