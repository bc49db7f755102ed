/**
 * An app moving from its own plain Workbox worker to the drop-in one, with
 * writes still in Workbox's queue: the app's users must not lose them. The
 * Workbox worker (test/fixtures/workbox-migration/sw.js, BackgroundSyncPlugin
 * on NetworkOnly) queues 20 writes made offline; the app then deploys
 * dist/sw.js at the same URL with a manifest naming Workbox's queue in
 * `workboxQueues`; the new worker takes those writes into its outbox and
 * delivers each once, in order, with an Idempotency-Key.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntrySummary, OutboxStatus } from '../../common/messages.js';
import type { BrowserPage } from '../support/browsers/index.js';
import { selectedEngines, skipEngine } from '../support/browsers/index.js';
import { eventually, sendWrites, type PageWrite } from '../support/outbox-page.js';
import { useScenario } from '../support/scenario.js';
import type { RecordedRequest, TestServer } from '../support/test-server.js';
import { bundleWorker } from '../support/workbox-bundle.js';

const FIXTURE = new URL('../fixtures/workbox-migration/', import.meta.url);
const DIST = new URL('../../dist/', import.meta.url);
const QUEUE = 'todo-queue';
const WRITES = 20;
const SCRIPT = { 'content-type': 'text/javascript; charset=utf-8' };

let workboxWorker = '';
beforeAll(async () => {
  workboxWorker = await bundleWorker(new URL('sw.js', FIXTURE));
});

/**
 * How many requests Workbox's queue `name` holds: its IndexedDB database
 * `workbox-background-sync`, store `requests`, index `queueName` (see
 * node_modules/workbox-background-sync/src/lib/QueueDb.ts), read by the page.
 */
const workboxQueued = (page: BrowserPage, name: string) =>
  page.evaluate(
    (name: string) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('workbox-background-sync');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('requests')) {
            db.close();
            return resolve(0);
          }
          const count = db.transaction('requests').objectStore('requests').index('queueName').count(IDBKeyRange.only(name));
          count.onsuccess = () => {
            db.close();
            resolve(count.result);
          };
          count.onerror = () => reject(count.error);
        };
      }),
    name,
  );

/**
 * Asks the worker through the typed client (dist/client.mjs, served at
 * /outbox-client.mjs): the Workbox app's page has no register.js, so the
 * page imports the client the way an app with its own worker would. Source
 * text, not a function: Vitest would rewrite the `import()` in a function.
 */
const CALL_OUTBOX = `async (method) => {
  const { connectOutbox } = await import(new URL('/outbox-client.mjs', location.href).href);
  return connectOutbox()[method]();
}`;
const outbox = <T>(page: BrowserPage, method: 'status' | 'entries' | 'syncNow'): Promise<T> => page.evaluate<T>(CALL_OUTBOX, method);

/**
 * Calls `registration.update()` and resolves once a worker other than the
 * current one is activated (bounded). On a timeout, says what became of the
 * new worker and what it broadcast (an invalid manifest fails its install).
 */
function updateWorker(page: BrowserPage, ms = 30_000): Promise<string> {
  return page.evaluate(async (ms: number) => {
    const registration = await navigator.serviceWorker.getRegistration('/');
    if (!registration?.active) throw new Error('no active worker to update');
    const before = registration.active;
    const heard: string[] = [];
    const channel = new BroadcastChannel('offline-outbox');
    channel.onmessage = ({ data }) => heard.push(JSON.stringify(data));
    registration.addEventListener('updatefound', () => {
      const worker = registration.installing;
      heard.push(`new worker ${worker?.state}`);
      worker?.addEventListener('statechange', () => heard.push(`new worker ${worker.state}`));
    });
    try {
      await registration.update();
      for (const until = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 100))) {
        const { active } = registration;
        if (active && active !== before && active.state === 'activated') return active.scriptURL;
        if (Date.now() > until) throw new Error(`no new worker activated after ${ms} ms; heard: ${heard.join('; ') || 'nothing'}`);
      }
    } finally {
      channel.close();
    }
  }, ms);
}

/** The write API. While `up` is false it drops every connection, as an unplugged server does; `accepted` is what it took, in order. */
function serveTodos(server: TestServer) {
  const api = { up: true, accepted: [] as RecordedRequest[] };
  server.on('POST', '/api/todos', (request) => {
    if (!api.up) return { drop: true };
    api.accepted.push(request);
    return { status: 201, headers: { 'content-type': 'application/json' }, body: request.body };
  });
  return api;
}

describe.each(selectedEngines())('moving from a Workbox queue in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    let api: ReturnType<typeof serveTodos>;
    const scenario = useScenario(engine, (server) => {
      server.on('GET', '/', async () => ({ headers: { 'content-type': 'text/html; charset=utf-8' }, body: await readFile(new URL('index.html', FIXTURE)) }));
      server.on('GET', '/sw.js', () => ({ headers: SCRIPT, body: workboxWorker }));
      server.on('GET', '/outbox-client.mjs', async () => ({ headers: SCRIPT, body: await readFile(new URL('client.mjs', DIST)) }));
      api = serveTodos(server);
    });

    it(`delivers the ${WRITES} writes Workbox queued offline once each, in order, with an Idempotency-Key, after the drop-in worker replaces Workbox's`, async () => {
      const { server, page } = scenario;
      await page.goto(`${server.origin}/`);
      await eventually(() => page.evaluate(() => navigator.serviceWorker.controller !== null), 'the Workbox worker to control the page');

      await server.unplug();
      const writes: PageWrite[] = Array.from({ length: WRITES }, (_, i) => ({ url: '/api/todos', via: 'fetch', body: JSON.stringify({ n: i + 1, title: `todo ${i + 1}` }) }));
      // Workbox queues each failed write and lets the page's fetch fail.
      expect(await sendWrites(page, writes)).toEqual(Array(WRITES).fill(0));
      // In Chromium a Background Sync replay may hold one entry out of the queue for a moment (it shifts before sending).
      await eventually(async () => (await workboxQueued(page, QUEUE)) === WRITES, `Workbox's queue to hold ${WRITES} writes`);
      expect(api.accepted).toEqual([]);

      // The deploy: the drop-in worker at the same URL, and its manifest beside it.
      server.on('GET', '/sw.js', async () => ({ headers: SCRIPT, body: await readFile(new URL('sw.js', DIST)) }));
      server.on('GET', '/offline.manifest.json', async () => ({
        headers: { 'content-type': 'application/json' },
        body: await readFile(new URL('offline.manifest.json', FIXTURE)),
      }));
      // The update needs the worker script from the server, but the write API
      // stays down until the new worker has taken Workbox's queue over: the old
      // worker replays whenever it starts (Firefox, WebKit) or gets a sync event
      // (Chromium), and a write it delivered now would reach the server without
      // a key: the test would be watching Workbox's replay, not the migration.
      api.up = false;
      await server.plug();
      expect(await updateWorker(page)).toBe(`${server.origin}/sw.js`);

      await eventually(async () => (await workboxQueued(page, QUEUE)) === 0, "the new worker to empty Workbox's queue");
      const moved = await outbox<EntrySummary[]>(page, 'entries');
      expect(moved).toHaveLength(WRITES);
      expect(moved.every((e) => e.method === 'POST' && e.url === `${server.origin}/api/todos`)).toBe(true);
      expect(new Set(moved.map((e) => e.key)).size).toBe(WRITES);
      expect(api.accepted).toEqual([]);

      api.up = true;
      await outbox(page, 'syncNow');
      await eventually(
        async () => {
          if (api.accepted.length < WRITES) return false;
          const status = await outbox<OutboxStatus>(page, 'status');
          return status.pending + status.inFlight === 0;
        },
        `the server to take ${WRITES} writes and the outbox to empty`,
        60_000,
      );

      const numbers = api.accepted.map((r) => (JSON.parse(r.body) as { n: number }).n);
      expect(numbers).toEqual(Array.from({ length: WRITES }, (_, i) => i + 1));
      const keys = api.accepted.map((r) => r.headers['idempotency-key']);
      expect(keys.every((k) => /^"[0-9a-f-]{36}"$/.test(k ?? ''))).toBe(true);
      // Sent with the key each write was given when it was moved, so a resend would be recognised.
      expect(new Set(keys)).toEqual(new Set(moved.map((e) => `"${e.key}"`)));
      // The bytes Workbox kept are the bytes sent.
      expect(api.accepted.map((r) => r.body)).toEqual(writes.map((w) => w.body));
      expect(api.accepted.every((r) => r.headers['content-type'] === 'application/json')).toBe(true);
      expect(await outbox<OutboxStatus>(page, 'status')).toMatchObject({ pending: 0, inFlight: 0, dead: 0, conflicts: 0 });
      expect(await workboxQueued(page, QUEUE)).toBe(0);
    });
  });
});
