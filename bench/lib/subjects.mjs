/**
 * The two subjects, everything else being equal: the same server, page code,
 * browser and arguments. A subject is only what an app would deploy: its
 * worker script(s), the tag that registers it, and how to tell that a write
 * was queued.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkboxBaseline } from '../workbox-baseline/build.mjs';

const SCRIPT = 'text/javascript; charset=utf-8';
/** offline-outbox's build: ./dist, or BENCH_DIST (e.g. an older release's dist/, to compare). */
export const DIST_DIR = process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST) : fileURLToPath(new URL('../../dist/', import.meta.url));
const dist = (name) => join(DIST_DIR, name);
const PAGE_CODE = readFile(fileURLToPath(new URL('./page.js', import.meta.url)), 'utf8');

/**
 * offline-outbox's manifest for the bench: the page is network-first, writes
 * are queued, items are cache-first (the `get` case; /api/other/:id has no
 * route on purpose).
 */
export const MANIFEST = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/api/r/:id', methods: ['POST'], queue: {} },
    { match: '/api/items/:id', cache: { strategy: 'cache-first' } },
  ],
};

/**
 * offline-outbox's manifest for the `notice` case: the same routes, plus
 * cache-first routes for two declared resources, `items` and `notes` (their
 * items and their collections, whose query strings are the pages), and the
 * change feed. Only this case loads it: in the others register.js opens no
 * feed connection.
 */
export const NOTICE_MANIFEST = {
  ...MANIFEST,
  routes: [
    ...MANIFEST.routes,
    { match: '/api/items', cache: { strategy: 'cache-first' } },
    { match: '/api/notes/:id', cache: { strategy: 'cache-first' } },
    { match: '/api/notes', cache: { strategy: 'cache-first' } },
  ],
  resources: {
    items: { collection: '/api/items', item: '/api/items/:id', ids: 'server' },
    notes: { collection: '/api/notes', item: '/api/notes/:id', ids: 'server' },
  },
  changes: { stream: '/api/changes/stream', since: '/api/changes?since={cursor}' },
};

/**
 * offline-outbox's manifest for the `overlay` case: the same routes, plus the
 * declared resource `items` (its collection, whose pages are the query
 * strings, cache-first) and its item writes (PATCH, queued), so that a GET of
 * the collection shows the writes still waiting (read-your-writes).
 */
export const OVERLAY_MANIFEST = {
  ...MANIFEST,
  routes: [...MANIFEST.routes, { match: '/api/items', cache: { strategy: 'cache-first' } }, { match: '/api/items/:id', methods: ['PATCH'], queue: {}, resource: 'items' }],
  resources: { items: { collection: '/api/items', item: '/api/items/:id', ids: 'server' } },
};

/** Workbox's queue, as the baseline names it. */
const WORKBOX_DB = 'workbox-background-sync';
const WORKBOX_STORE = 'requests';

/** The page at "/": the shared bench code, then the subject's registration tag. */
export async function pageHtml(registerTag) {
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>offline-outbox bench</title>
<h1 id="title">bench page</h1>
<script>
${await PAGE_CODE}
</script>
${registerTag}
</html>
`;
}

async function readDist(name) {
  try {
    return await readFile(dist(name));
  } catch {
    throw new Error(`${dist(name)} is missing: run npm run build`);
  }
}

/**
 * @typedef {object} Subject
 * @property {string} name
 * @property {string} registerTag         HTML that registers the worker
 * @property {RegExp} workerPath          the controlling worker's path must match
 * @property {(options?: { manifest?: object }) => Promise<Map<string, { type: string, body: string | Buffer }>>} files  (`manifest`: the case's, where the subject has one)
 * @property {string} queuedBy            how queued writes are counted
 * @property {string} queuedShort         the same, for the table
 * @property {(page: import('playwright-core').Page, sent: SendResult) => Promise<number>} countQueued
 * @property {(page: import('playwright-core').Page) => Promise<string>} afterOnline  what the page does when back online
 * @property {(page: import('playwright-core').Page) => Promise<number | null>} remaining  writes still queued (null: unknown)
 * @property {'cache-updated' | 'purge' | 'read'} noticeMode  what the page does on a change notice (page.js, watchNotice)
 * @property {string} noticeHow           the same, in words
 *
 * @typedef {{ total: number, elapsedMs: number, statuses: Record<string, number>, rejected: number, errors: Record<string, number>, accepted202WithId: number, distinctQueuedIds: number, visibility: string }} SendResult
 */

/** @type {Subject} */
const offlineOutbox = {
  name: 'offline-outbox',
  registerTag: '<script src="/register.js" defer></script>',
  workerPath: /^\/sw\.js$/,
  async files({ manifest = MANIFEST } = {}) {
    return new Map([
      ['/sw.js', { type: SCRIPT, body: await readDist('sw.js') }],
      ['/register.js', { type: SCRIPT, body: await readDist('register.js') }],
      ['/offline.manifest.json', { type: 'application/json', body: JSON.stringify(manifest) }],
    ]);
  },
  queuedBy: '202 + X-Outbox-Queued',
  queuedShort: '202 + X-Outbox-Queued',
  // Each queued write is answered 202 with its own outbox id.
  countQueued: async (_page, sent) => Math.min(sent.accepted202WithId, sent.distinctQueuedIds),
  // register.js replays on the page's `online` event by itself; the page
  // also asks explicitly, as an app's "sync now" button would.
  afterOnline: (page) => page.evaluate(() => window.bench.syncNow()),
  remaining: async () => null,
  // register.js's feed forwards the notice; the worker refetches what it names and says `cache-updated`.
  noticeMode: 'cache-updated',
  noticeHow: 'register.js forwards the notice to the worker; the page waits for cache-updated naming the item, then reads it',
};

let workboxBuild;
/** @type {Subject} */
const workbox = {
  name: 'workbox',
  // A plain registration, as Workbox's docs show it.
  registerTag: "<script>navigator.serviceWorker.register('/workbox-sw.js');</script>",
  workerPath: /^\/workbox-sw\.js$/,
  async files() {
    workboxBuild ??= buildWorkboxBaseline();
    return new Map([['/workbox-sw.js', { type: SCRIPT, body: await readFile(await workboxBuild) }]]);
  },
  queuedBy: `records in IndexedDB ${WORKBOX_DB}/${WORKBOX_STORE}`,
  queuedShort: 'IndexedDB records',
  // The page's fetch rejects (the plugin re-throws); the queue is the proof.
  countQueued: (page) => page.evaluate(([db, store]) => window.bench.countStore(db, store), [WORKBOX_DB, WORKBOX_STORE]).then((n) => n ?? 0),
  // Nothing: Workbox replays on the Background Sync `sync` event only.
  afterOnline: async () => 'nothing (Workbox replays on its sync event)',
  remaining: (page) => page.evaluate(([db, store]) => window.bench.countStore(db, store), [WORKBOX_DB, WORKBOX_STORE]),
  // Workbox has no notices; what is left to an app is to purge the cache on any change.
  noticeMode: 'purge',
  noticeHow: 'the page hears the notice on its own EventSource, deletes every cache (caches.delete), then reads the item (a miss: the network)',
};

export const SUBJECTS = { 'offline-outbox': offlineOutbox, workbox };

/**
 * Calibration, not subjects: what the harness itself allows, on this machine.
 * - `noWorker`: the page with no worker at all; offline, its fetches fail at
 *   once. The speed of the page's write loop and the browser's network stack.
 *   In the `notice` case every read is a network read: the floor of
 *   time-to-fresh (the notice's delivery and one round trip).
 * - `idealWorker`: lib/ideal-sw.js answering each write 202 at once, storing
 *   nothing: the enqueue case's yardstick.
 * - `idealReplayer`: lib/ideal-sw.js, 6 lanes from memory, no storage.
 */
/** The calibrations' worker (lib/ideal-sw.js): the ideal worker and the ideal replayer are the same script. */
const IDEAL_SW = {
  registerTag: "<script>navigator.serviceWorker.register('/ideal-sw.js');</script>",
  workerPath: /^\/ideal-sw\.js$/,
  files: async () => new Map([['/ideal-sw.js', { type: SCRIPT, body: await readFile(fileURLToPath(new URL('./ideal-sw.js', import.meta.url))) }]]),
};

export const CALIBRATION = {
  noWorker: {
    name: 'no worker',
    registerTag: '',
    workerPath: /^$/,
    files: async () => new Map(),
    queuedBy: 'nothing (no worker)',
    queuedShort: 'none',
    countQueued: async () => 0,
    afterOnline: async () => 'nothing',
    remaining: async () => null,
    noticeMode: 'read',
    noticeHow: 'the page hears the notice on its own EventSource and reads the item from the network (no cache)',
  },
  idealWorker: {
    name: 'ideal worker',
    ...IDEAL_SW,
    queuedBy: '202 + X-Outbox-Queued (stores nothing)',
    queuedShort: '202 (nothing stored)',
    countQueued: async (_page, sent) => Math.min(sent.accepted202WithId, sent.distinctQueuedIds),
    afterOnline: async () => 'nothing',
    remaining: async () => null,
  },
  idealReplayer: {
    name: 'ideal replayer',
    ...IDEAL_SW,
    queuedBy: 'nothing (replays from memory)',
    queuedShort: 'none',
    countQueued: async () => 0,
    afterOnline: async () => 'nothing',
    remaining: async () => null,
  },
};
