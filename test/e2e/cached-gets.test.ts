import { describe, expect, it } from 'vitest';
import { controllerUrl, pageFetch, serveApp, waitForActiveWorker } from '../support/app-page.js';
import { selectedEngines, skipEngine } from '../support/browsers/index.js';
import { useScenario } from '../support/scenario.js';

const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first', networkTimeoutSeconds: 5 } },
    { match: '/api/items', cache: { strategy: 'network-first', networkTimeoutSeconds: 5 } },
    { match: '/api/secret', cache: { strategy: 'network-first' } },
  ],
};

describe.each(selectedEngines())('cached GETs in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    let itemsServed = 0;
    const scenario = useScenario(engine, (server) => {
      serveApp(server, manifest);
      server.on('GET', '/api/items', () => ({
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ id: 1, name: 'milk' }], served: ++itemsServed }),
      }));
      server.on('GET', '/api/secret', { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: '{"token":"s3cret"}' });
      server.on('POST', '/api/unrouted', (r) => ({ headers: { 'content-type': 'text/plain' }, body: `got ${r.body}` }));
    });

    it('serves the page and the cached API response with the server unplugged; never a no-store one', async () => {
      const { server, page } = scenario;
      await page.goto(`${server.origin}/`);
      const script = await waitForActiveWorker(page);
      expect(script).toMatch(new RegExp(`^${server.origin}/sw\\.js\\?v=[0-9a-f]{16}$`));

      await page.reload();
      expect(await controllerUrl(page)).toBe(script);
      const online = await pageFetch(page, '/api/items');
      expect(online).toMatchObject({ ok: true, status: 200 });
      expect((await pageFetch(page, '/api/secret')).body).toBe('{"token":"s3cret"}');

      await server.unplug();
      await page.reload();
      expect(await page.evaluate(() => document.getElementById('title')?.textContent)).toBe('Items page');
      expect(await controllerUrl(page)).toBe(script);
      // The last response the server gave, not an older one.
      expect(await pageFetch(page, '/api/items')).toMatchObject({ ok: true, status: 200, body: online.body });
      expect(await pageFetch(page, '/api/secret')).toMatchObject({ ok: false });
      // Offline is real: what the worker does not serve fails.
      expect(await pageFetch(page, '/api/other')).toMatchObject({ ok: false });
      const cached = await page.evaluate(async () => {
        const urls: string[] = [];
        for (const name of await caches.keys()) for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
        return urls.sort();
      });
      expect(cached).toEqual(['/', '/api/items']);
    });

    it('lets a request no route matches reach the server unchanged', async () => {
      const { server, page } = scenario;
      await page.goto(`${server.origin}/`);
      expect(await controllerUrl(page)).not.toBeNull();
      const before = server.received('/api/unrouted').length;
      const answer = await pageFetch(page, '/api/unrouted?x=1', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'x-custom': 'abc' },
        body: 'hello',
      });
      expect(answer).toMatchObject({ ok: true, status: 200, body: 'got hello' });
      const got = server.received('/api/unrouted');
      expect(got.length).toBe(before + 1);
      expect(got.at(-1)).toMatchObject({ method: 'POST', url: '/api/unrouted?x=1', body: 'hello' });
      expect(got.at(-1)!.headers).toMatchObject({ 'content-type': 'text/plain', 'x-custom': 'abc' });
      expect(got.at(-1)!.headers['idempotency-key']).toBeUndefined();
    });
  });
});
