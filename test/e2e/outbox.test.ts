import { describe, expect, it } from 'vitest';
import type { EntrySummary, OutboxStatus } from '../../common/messages.js';
import { controllerUrl, setManifest, waitForActiveWorker } from '../support/app-page.js';
import { selectedEngines, skipEngine } from '../support/browsers/index.js';
import { eventually, formPage, outboxCall, sendWrites, serveWrites, submitForm, type PageWrite } from '../support/outbox-page.js';
import { useScenario } from '../support/scenario.js';
import type { RecordedRequest } from '../support/test-server.js';

const RESOURCES = ['/api/notes/a', '/api/notes/b', '/api/notes/c'];
const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    // The app's shell includes the drop-in script, so the API is there offline too.
    { match: '/register.js', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/api/notes/:id', methods: ['POST', 'PUT', 'PATCH', 'DELETE'], queue: {} },
  ],
};

const writesTo = (server: { received(path: string, method?: string): RecordedRequest[] }, paths: string[]) => paths.flatMap((p) => server.received(p, 'POST'));

describe.each(selectedEngines())('the outbox in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    const held: { release?: () => void } = {};
    let failFirstOf = '';
    const scenario = useScenario(engine, (server) => {
      server.on('GET', '/', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: formPage('/api/notes/c') });
      setManifest(server, manifest);
      serveWrites(server, [...RESOURCES, '/api/notes/x', '/api/notes/y', '/api/notes/z', '/api/notes/k2'], (request, attempt) => {
        if (request.url === '/api/notes/y') return { status: 400, body: '{"error":"invalid"}' };
        if (request.url === failFirstOf && attempt === 1) return { status: 500 };
        return undefined;
      });
    });

    async function ready(): Promise<void> {
      const { server, page } = scenario;
      await page.goto(`${server.origin}/`);
      await waitForActiveWorker(page);
      await page.reload();
      expect(await controllerUrl(page)).not.toBeNull();
    }

    it('26 writes made offline (fetch, XHR, a form) are kept across a reload and delivered once each, in order per resource, bytes intact', async () => {
      const { server, page } = scenario;
      await ready();
      await server.unplug();

      const writes: PageWrite[] = [];
      const seqs = new Map<string, number>();
      for (let i = 0; i < 25; i++) {
        const url = RESOURCES[i % 3]!;
        const seq = seqs.get(url) ?? 0;
        seqs.set(url, seq + 1);
        writes.push({ url, via: i < 20 ? 'fetch' : 'xhr', body: JSON.stringify({ resource: url, seq, text: `naïve — ${i} ✓` }) });
      }
      expect(await sendWrites(page, writes)).toEqual(Array(25).fill(202));
      const formSeq = seqs.get('/api/notes/c')!;
      await submitForm(page, formSeq); // answered 303 back to the page, which opens from the cache
      expect(await page.evaluate(() => document.getElementById('note-form') !== null)).toBe(true);

      await page.reload();
      // The reload wakes the worker and the page asks for a sync, so failing
      // attempts may be in flight for a moment, and another pass may start
      // right after one ends: judge one reading, not two.
      let status: OutboxStatus | undefined;
      await eventually(
        async () => {
          status = await outboxCall<OutboxStatus>(page, 'status');
          return status.inFlight === 0;
        },
        'no attempt in flight',
        20_000,
      );
      expect(status).toMatchObject({ pending: 26, inFlight: 0, dead: 0 });
      const listed = await outboxCall<EntrySummary[]>(page, 'entries');
      expect(listed).toHaveLength(26);
      expect(listed.every((e) => !('body' in e))).toBe(true);
      expect(writesTo(server, RESOURCES)).toEqual([]);

      await server.plug();
      await outboxCall(page, 'syncNow');
      await eventually(async () => writesTo(server, RESOURCES).length >= 26, 'the server to receive 26 writes');
      await eventually(async () => (await outboxCall<OutboxStatus>(page, 'status')).pending === 0, 'an empty outbox');

      const got = writesTo(server, RESOURCES);
      const keys = got.map((r) => r.headers['idempotency-key']);
      expect(keys.every((k) => /^"[0-9a-f-]{36}"$/.test(k ?? ''))).toBe(true);
      expect(new Set(keys).size).toBe(26);
      // In arrival order, per resource, the sequence the page wrote.
      const arrived = server.requests.filter((r) => r.method === 'POST' && RESOURCES.includes(r.url));
      for (const url of RESOURCES) {
        const bodies = arrived.filter((r) => r.url === url).map((r) => r.body);
        const expected = writes.filter((w) => w.url === url).map((w) => w.body);
        if (url === '/api/notes/c') expected.push(`title=from+a+form&seq=${formSeq}`);
        expect(bodies).toEqual(expected);
      }
      const form = arrived.find((r) => r.body.startsWith('title='))!;
      expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    });

    it('a write answered 500 is retried with the same key, one answered 400 is dead and listed, and neither holds up other groups', async () => {
      const { server, page } = scenario;
      failFirstOf = '/api/notes/x';
      await ready();
      await server.unplug();
      const writes: PageWrite[] = ['x', 'y', 'z'].map((id) => ({ url: `/api/notes/${id}`, via: 'fetch', body: JSON.stringify({ id }) }));
      expect(await sendWrites(page, writes)).toEqual([202, 202, 202]);
      await server.plug();
      await outboxCall(page, 'syncNow');

      await eventually(() => server.received('/api/notes/x').length >= 2, 'the retry of x', 60_000);
      const x = server.received('/api/notes/x');
      expect(x.map((r) => r.headers['idempotency-key'])).toEqual([x[0]!.headers['idempotency-key'], x[0]!.headers['idempotency-key']]);
      expect(server.received('/api/notes/z')).toHaveLength(1);
      // z went out with the first attempts, not after x's retry.
      const order = server.requests.filter((r) => r.method === 'POST').map((r) => r.url);
      expect(order.indexOf('/api/notes/z')).toBeLessThan(order.lastIndexOf('/api/notes/x'));

      await eventually(async () => (await outboxCall<OutboxStatus>(page, 'status')).pending === 0, 'x delivered');
      const listed = await outboxCall<EntrySummary[]>(page, 'entries');
      expect(listed).toMatchObject([{ url: `${server.origin}/api/notes/y`, state: 'dead', lastStatus: 400 }]);
      expect(await outboxCall<OutboxStatus>(page, 'status')).toMatchObject({ dead: 1, pending: 0, inFlight: 0 });
      expect(server.received('/api/notes/y')).toHaveLength(1);
    });

    if (engine.name === 'chromium')
      it('a worker killed mid-replay loses nothing: the held write is sent again with the same key', async () => {
        const { server, page, browser } = scenario;
        await ready();
        await server.unplug();
        const writes: PageWrite[] = [0, 1, 2].map((seq) => ({ url: '/api/notes/k1', via: 'fetch', body: JSON.stringify({ kill: seq }) }));
        writes.push({ url: '/api/notes/k2', via: 'fetch', body: JSON.stringify({ kill: 'b' }) });
        expect(await sendWrites(page, writes)).toEqual([202, 202, 202, 202]);
        // The server holds its answer to the first write until the worker is gone.
        let holding = true;
        server.on('POST', '/api/notes/k1', async (request) => {
          if (holding && request.body === '{"kill":0}') await new Promise<void>((resolve) => (held.release = resolve));
          return { status: 201, body: '{}' };
        });
        await server.plug();
        void outboxCall(page, 'syncNow').catch(() => {});
        await eventually(() => held.release !== undefined, 'the held request');
        await browser.stopServiceWorkers();
        holding = false;
        held.release!();

        // A new worker instance; after the lease lapses, a trigger replays what was in flight.
        await page.reload();
        await eventually(
          async () => {
            await outboxCall(page, 'syncNow');
            return server.received('/api/notes/k1').length >= 4;
          },
          'the held write to be sent again',
          60_000,
        );
        const a = server.received('/api/notes/k1').map((r) => [r.body, r.headers['idempotency-key']]);
        expect(a.map(([body]) => body)).toEqual(['{"kill":0}', '{"kill":0}', '{"kill":1}', '{"kill":2}']);
        expect(a[0]![1]).toBe(a[1]![1]);
        expect(server.received('/api/notes/k2')).toHaveLength(1);
        expect(await outboxCall<OutboxStatus>(page, 'status')).toMatchObject({ pending: 0, inFlight: 0 });
      });

    if (engine.name === 'chromium')
      it('Background Sync delivers what was queued, with no page open and the worker stopped', async () => {
        const { server, browser } = scenario;
        const page = await browser.newPage();
        await page.goto(`${server.origin}/`);
        await waitForActiveWorker(page);
        await page.reload();
        await server.unplug();
        const writes: PageWrite[] = [0, 1, 2].map((n) => ({ url: '/api/notes/k2', via: 'fetch', body: JSON.stringify({ bg: n }) }));
        expect(await sendWrites(page, writes)).toEqual([202, 202, 202]);
        // The worker asked the browser for a sync when it queued them.
        expect(await page.evaluate(async () => (await navigator.serviceWorker.ready).sync?.getTags())).toEqual(['offline-outbox']);
        // No page is left to say "online" or "sync now", and the stopped worker
        // has no timer left: only the sync event can start the replay.
        await page.goto('about:blank');
        await browser.stopServiceWorkers();
        const before = server.received('/api/notes/k2').length;
        await server.plug();
        await browser.dispatchSync!(server.origin, 'offline-outbox');
        await eventually(() => server.received('/api/notes/k2').length >= before + 3, 'the sync event to deliver the writes', 30_000);
        expect(
          server
            .received('/api/notes/k2')
            .slice(before)
            .map((r) => r.body),
        ).toEqual(writes.map((w) => w.body));
      });
  });
});
