/**
 * The same failures, side by side: offline-outbox and a plain Workbox worker
 * (BackgroundSyncPlugin on NetworkOnly, as Workbox's docs show it; see
 * bench/workbox-baseline). Ours must deliver everything; Workbox's losses,
 * which its queue's design makes certain, are asserted too and printed. Chromium only: it is the engine where Workbox's queue replays
 * (Background Sync), and the one whose workers can be killed on demand.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWorkboxBaseline } from '../../bench/workbox-baseline/build.mjs';
import { PAGE_HTML, setManifest, waitForActiveWorker } from '../support/app-page.js';
import { engines, skipEngine, type BrowserSession } from '../support/browsers/index.js';
import { eventually, outboxCall, sendWrites, type PageWrite } from '../support/outbox-page.js';
import { startTestServer, type RecordedRequest, type Reply, type TestServer } from '../support/test-server.js';

const chromium = engines.find((e) => e.name === 'chromium')!;
type Subject = 'offline-outbox' | 'workbox';
const WORKBOX_TAG = 'workbox-background-sync:bench-queue';

let workboxScript = '';
beforeAll(async () => {
  workboxScript = await readFile(await buildWorkboxBaseline(), 'utf8');
});

/** One subject in a fresh browser profile and server: the page is controlled, the server unplugged with `writes` queued. */
async function queuedOffline(subject: Subject, writes: PageWrite[], answer: (r: RecordedRequest, attempt: number) => Reply | Promise<Reply>) {
  const server = await startTestServer();
  const browser = await chromium.launch();
  const workboxPage = PAGE_HTML.replace('<script src="/register.js" defer></script>', `<script>navigator.serviceWorker.register('/workbox-sw.js')</script>`);
  server.on('GET', '/', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: subject === 'workbox' ? workboxPage : PAGE_HTML });
  server.on('GET', '/workbox-sw.js', { headers: { 'content-type': 'text/javascript' }, body: workboxScript });
  setManifest(server, {
    version: 1,
    routes: [
      { match: '/', cache: { strategy: 'network-first' } },
      { match: '/api/r/:id', methods: ['POST'], queue: {} },
    ],
  });
  const attempts = new Map<string, number>();
  for (const path of new Set(writes.map((w) => w.url)))
    server.on('POST', path, (r) => {
      const id = r.body;
      attempts.set(id, (attempts.get(id) ?? 0) + 1);
      return answer(r, attempts.get(id)!);
    });
  const page = await browser.newPage();
  await page.goto(`${server.origin}/`);
  await waitForActiveWorker(page);
  await page.reload();
  await server.unplug();
  await sendWrites(page, writes);
  await server.plug();
  return { server, browser, page };
}

/** Replays: ours through its page API; Workbox's through the sync event it waits for. */
async function replay(subject: Subject, browser: BrowserSession, server: TestServer, page: Awaited<ReturnType<typeof queuedOffline>>['page']) {
  if (subject === 'workbox') await browser.dispatchSync!(server.origin, WORKBOX_TAG);
  else await outboxCall(page, 'syncNow');
}

const delivered = (server: TestServer, ok: (r: RecordedRequest) => boolean) => server.requests.filter((r) => r.url.startsWith('/api/r/') && ok(r)).map((r) => r.body);

/**
 * How many requests Workbox still keeps to replay: its queue in IndexedDB
 * (database `workbox-background-sync`, store `requests`, see
 * bench/workbox-baseline/sw.ts), read by the page. A write not in it can
 * never be sent again.
 */
const workboxQueued = (page: Awaited<ReturnType<typeof queuedOffline>>['page']) =>
  page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('workbox-background-sync');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const count = db.transaction('requests').objectStore('requests').count();
          count.onsuccess = () => {
            db.close();
            resolve(count.result);
          };
          count.onerror = () => reject(count.error);
        };
      }),
  );

describe.skipIf(skipEngine(chromium))('offline-outbox beside plain Workbox (chromium)', () => {
  const writes: PageWrite[] = ['x', 'y', 'z'].map((id) => ({ url: `/api/r/${id}`, via: 'fetch', body: JSON.stringify({ id }) }));

  it('a 500 on the first replay: retried and delivered by us; Workbox counts it as sent', async () => {
    const results: Record<Subject, string[]> = { 'offline-outbox': [], workbox: [] };
    for (const subject of ['offline-outbox', 'workbox'] as const) {
      // x fails once with 500; y and z succeed.
      const { server, browser, page } = await queuedOffline(subject, writes, (r, attempt) =>
        r.body.includes('"x"') && attempt === 1 ? { status: 500 } : { status: 201, body: '{}' },
      );
      try {
        await replay(subject, browser, server, page);
        const settled = async () => subject === 'workbox' || (await outboxCall<{ pending: number }>(page, 'status')).pending === 0;
        await eventually(async () => delivered(server, () => true).length >= (subject === 'workbox' ? 3 : 4) && (await settled()), `${subject} to replay`, 30_000);
        // Delivered = the server answered 2xx to it at least once.
        results[subject] = writes.map((w) => w.body).filter((body) => server.requests.filter((r) => r.body === body).length > (body.includes('"x"') ? 1 : 0));
        if (subject === 'workbox') {
          // Workbox took the 500 for a success: x was sent once and is no longer queued, so it never will be again.
          expect(server.requests.filter((r) => r.body === writes[0]!.body).length).toBe(1);
          expect(await workboxQueued(page)).toBe(0);
        }
      } finally {
        await browser.close();
        await server.close();
      }
    }
    console.log(
      `500 once on x — delivered by offline-outbox: ${results['offline-outbox'].join(' ')}; by Workbox: ${results.workbox.join(' ')}; Workbox lost: ${
        writes
          .map((w) => w.body)
          .filter((b) => !results.workbox.includes(b))
          .join(' ') || 'nothing'
      }`,
    );
    expect(results['offline-outbox']).toEqual(writes.map((w) => w.body));
    expect(results.workbox).toEqual([writes[1]!.body, writes[2]!.body]);
  });

  it('the worker killed mid-replay: resent by us with the same key; Workbox had already removed it', async () => {
    const lost: Record<Subject, string[]> = { 'offline-outbox': [], workbox: [] };
    for (const subject of ['offline-outbox', 'workbox'] as const) {
      let release: (() => void) | undefined;
      // The first attempt at x is held, then its connection drops: the worker is gone by then.
      const { server, browser, page } = await queuedOffline(subject, writes, async (r, attempt) => {
        if (r.body.includes('"x"') && attempt === 1) {
          await new Promise<void>((resolve) => (release = resolve));
          return { drop: true };
        }
        return { status: 201, body: '{}' };
      });
      try {
        // Not awaited: our sync-now answers when its pass ends, and the server is holding x.
        void replay(subject, browser, server, page).catch(() => {});
        await eventually(() => release !== undefined, `${subject}'s first replay of x`, 30_000);
        await browser.stopServiceWorkers();
        release!();
        // Bring the worker back and ask again until nothing changes (ours waits out its 15 s lease).
        await page.reload();
        // Workbox: until it has sent y and z; then its queue tells whether x can still come.
        const others = () => delivered(server, (r) => !r.body.includes('"x"')).length >= 2;
        await eventually(
          async () => {
            await replay(subject, browser, server, page);
            return subject === 'workbox' ? others() : server.requests.filter((r) => r.body.includes('"x"')).length >= 2 && others();
          },
          subject === 'workbox' ? 'Workbox to send y and z' : 'offline-outbox to resend x',
          60_000,
        );
        if (subject === 'workbox') expect(await workboxQueued(page)).toBe(0);
        const xs = server.requests.filter((r) => r.body.includes('"x"'));
        if (xs.length < 2) lost[subject].push(writes[0]!.body);
        if (subject === 'offline-outbox') {
          expect(xs.map((r) => r.headers['idempotency-key'])).toEqual([xs[0]!.headers['idempotency-key'], xs[0]!.headers['idempotency-key']]);
          expect(delivered(server, (r) => !r.body.includes('"x"')).sort()).toEqual([writes[1]!.body, writes[2]!.body]);
        }
      } finally {
        await browser.close();
        await server.close();
      }
    }
    console.log(`killed mid-replay — offline-outbox lost: ${lost['offline-outbox'].join(' ') || 'nothing'}; Workbox lost: ${lost.workbox.join(' ') || 'nothing'}`);
    expect(lost['offline-outbox']).toEqual([]);
    // Workbox took x out of its queue before sending it: the kill lost it.
    expect(lost.workbox).toEqual([writes[0]!.body]);
  });
});
