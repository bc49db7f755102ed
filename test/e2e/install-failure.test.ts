import { describe, expect, it } from 'vitest';
import { controllerUrl, pageConsole, pageFetch, serveApp, setManifest, waitForActiveWorker, waitForConsole } from '../support/app-page.js';
import { selectedEngines, skipEngine } from '../support/browsers/index.js';
import { useScenario } from '../support/scenario.js';

const good = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/api/items', cache: { strategy: 'network-first' } },
  ],
};
// A deploy with a typo: the new worker must refuse it.
const bad = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/api/items', cahce: { strategy: 'network-first' } },
  ],
};

describe.each(selectedEngines())('an invalid manifest in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    const scenario = useScenario(engine, (server) => {
      serveApp(server, good);
      server.on('GET', '/api/items', { headers: { 'content-type': 'application/json' }, body: '[{"id":1}]' });
    });

    it('fails the new worker with the field path in the console, and the previous worker keeps control', async () => {
      const { server, page } = scenario;
      await page.goto(`${server.origin}/`);
      const goodWorker = await waitForActiveWorker(page);
      await page.reload();
      expect(await controllerUrl(page)).toBe(goodWorker);
      expect(await pageFetch(page, '/api/items')).toMatchObject({ ok: true, body: '[{"id":1}]' });

      setManifest(server, bad);
      await page.reload();
      const line = await waitForConsole(page, 'routes[1].cahce: unknown field; did you mean "cache"?');
      expect(line).toMatch(/^error: offline-outbox: the new service worker was not installed/);
      // One mistake, one line: the misspelled field is not also reported as missing.
      expect(line).not.toContain('routes[1].cache: required');
      expect((await pageConsole(page)).filter((l) => l.includes('the new service worker was not installed'))).toHaveLength(1);
      // The install was attempted (a new script URL) and refused.
      expect(server.received('/sw.js').map((r) => r.url)).toContain(goodWorker.replace(server.origin, '').replace(/v=[0-9a-f]+/, '') + (await newVersion()));

      const state = await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration();
        return { active: registration?.active?.scriptURL, waiting: registration?.waiting?.scriptURL ?? null };
      });
      expect(state).toEqual({ active: goodWorker, waiting: null });
      expect(await controllerUrl(page)).toBe(goodWorker);

      // And it still serves offline with the manifest it had.
      await server.unplug();
      await page.reload();
      expect(await controllerUrl(page)).toBe(goodWorker);
      expect(await pageFetch(page, '/api/items')).toMatchObject({ ok: true, body: '[{"id":1}]' });
    });

    /** The `v=` the page computed for the bad manifest, read from the page's own digest. */
    async function newVersion(): Promise<string> {
      return scenario.page.evaluate(async (text: string) => {
        const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`200\n${text}`)));
        return `v=${Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('')}`;
      }, JSON.stringify(bad));
    }
  });
});
