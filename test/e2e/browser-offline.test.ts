/**
 * Offline as the browser itself sees it: elsewhere "offline" is the test
 * server unplugged, which no page hears about. Here the whole profile goes
 * offline (DevTools' "Offline", `context.setOffline`), so `navigator.onLine`
 * flips and the page gets its `offline` and `online` events; register.js
 * answers `online` by asking the worker to replay. Chromium only: the other
 * drivers cannot take a browser offline.
 */
import { describe, expect, it } from 'vitest';
import type { OutboxStatus } from '../../common/messages.js';
import { controllerUrl, PAGE_HTML, setManifest, waitForActiveWorker } from '../support/app-page.js';
import { engines, skipEngine } from '../support/browsers/index.js';
import { eventually, outboxCall, sendWrites, serveWrites, type PageWrite } from '../support/outbox-page.js';
import { useScenario } from '../support/scenario.js';

const chromium = engines.find((e) => e.name === 'chromium')!;
const NOTE = '/api/notes/a';
const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/register.js', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/ui', cache: { strategy: 'network-first' } },
    { match: '/outbox-status.js', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/api/notes/:id', methods: ['POST'], queue: {} },
  ],
};

/**
 * PAGE_HTML, recording in `window.__heard` what the page hears of the
 * network and what it asks the worker. Its listeners are added before
 * register.js (deferred) adds its own, so they run first.
 */
const RECORDING_PAGE = PAGE_HTML.replace(
  '<script src="/register.js" defer></script>',
  `<script>
  window.__heard = [];
  addEventListener('offline', () => __heard.push('offline'));
  addEventListener('online', () => __heard.push('online'));
  const post = ServiceWorker.prototype.postMessage;
  ServiceWorker.prototype.postMessage = function (message, transfer) {
    __heard.push('asked ' + message.op);
    return post.call(this, message, transfer);
  };
</script>
<script src="/register.js" defer></script>`,
);

describe.skipIf(skipEngine(chromium))('the browser offline (chromium)', () => {
  const scenario = useScenario(chromium, (server) => {
    server.on('GET', '/', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: RECORDING_PAGE });
    server.on('GET', '/ui', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE_HTML.replace('defer></script>', 'defer data-ui></script>') });
    setManifest(server, manifest);
    serveWrites(server, [NOTE]);
  });

  it("keeps the writes made offline, and the page's own `online` event sends them, in order, once each", async () => {
    const { server, browser, page } = scenario;
    await page.goto(`${server.origin}/`);
    await waitForActiveWorker(page);
    await page.reload();
    expect(await controllerUrl(page)).not.toBeNull();

    await browser.setOffline!(true);
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);
    const writes: PageWrite[] = ['milk', 'eggs', 'bread'].map((text, seq) => ({ url: NOTE, via: seq === 1 ? 'xhr' : 'fetch', body: JSON.stringify({ seq, text }) }));
    expect(await sendWrites(page, writes)).toEqual([202, 202, 202]);
    expect(await outboxCall<OutboxStatus>(page, 'status')).toMatchObject({ pending: 3, inFlight: 0, dead: 0 });
    expect(server.received(NOTE)).toEqual([]);

    await browser.setOffline!(false);
    await eventually(
      async () => {
        const status = await outboxCall<OutboxStatus>(page, 'status');
        return status.pending + status.inFlight === 0 && server.received(NOTE).length >= 3;
      },
      'the queued writes to reach the server',
      30_000,
    );

    const sent = server.received(NOTE);
    expect(sent.map((r) => JSON.parse(r.body) as { seq: number }).map((b) => b.seq)).toEqual([0, 1, 2]);
    expect(new Set(sent.map((r) => r.headers['idempotency-key'])).size).toBe(3);
    expect(await outboxCall<OutboxStatus>(page, 'status')).toMatchObject({ pending: 0, inFlight: 0, dead: 0, conflicts: 0 });
    // The page heard the network go and come back, and register.js answered `online` at once by asking for the replay.
    const heard = await page.evaluate<string[]>(() => (window as unknown as { __heard: string[] }).__heard);
    expect(heard.slice(heard.indexOf('offline'), heard.indexOf('online') + 2)).toEqual(['offline', 'asked status', 'online', 'asked sync-now']);
  });

  it('<outbox-status> on a load made offline with nothing queued says "Offline · nothing waiting", not "All changes synced"', async () => {
    const { server, browser, page } = scenario;
    await page.goto(`${server.origin}/ui`);
    await waitForActiveWorker(page);
    await page.reload();
    expect(await controllerUrl(page)).not.toBeNull();
    expect(await outboxCall<OutboxStatus>(page, 'status')).toMatchObject({ pending: 0, inFlight: 0, conflicts: 0, dead: 0 });

    await browser.setOffline!(true);
    try {
      await page.reload();
      let said = '';
      await eventually(async () => {
        said = await page.evaluate(() => document.querySelector('outbox-status')?.shadowRoot?.querySelector('[part~="summary"]')?.textContent ?? '');
        return said.startsWith('Offline');
      }, 'the element to say it is offline');
      expect(said).toBe('Offline · nothing waiting');
    } finally {
      await browser.setOffline!(false);
    }
  });
});
