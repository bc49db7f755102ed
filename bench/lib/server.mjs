/**
 * The bench's HTTP server, on 127.0.0.1 only: the same code serves every
 * subject. It serves the page (bench/lib/page.js inlined, plus the subject's
 * registration tag), the subject's static files, the write endpoint
 * POST /api/r/:id, which waits `writeDelayMs` (20 ms) and answers 201, and
 * for the `get` case GET /api/items/:id and GET /api/other/:id, answered at
 * once with `itemBody(id)` (200, `Cache-Control: no-cache` and no
 * validator, so the browser's HTTP cache never answers them by itself).
 *
 * For the `notice` case (the `catalog` option) it also serves two versioned
 * resources, `items` and `notes`: GET /api/<resource>/:id and the
 * collection's pages GET /api/<resource>?page=N, each with an ETag (answered
 * 304 to a matching If-None-Match) and logged with its arrival time; the
 * change feed GET /api/changes/stream (Server-Sent Events), on which the
 * harness publishes a notice; and the catch-up GET /api/changes?since=….
 *
 * Every write is recorded with its arrival and answer times
 * (performance.now() of this process, the same clock the harness uses to
 * mark "back online"), so time to delivery is measured where it happens.
 *
 * Plain node:http with keep-alive: a few thousand small requests at 6
 * connections are nothing for it, so the server is never the bottleneck.
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * @typedef {object} Delivery
 * @property {number} index        arrival order, from 0
 * @property {string} resource     the :id of /api/r/:id
 * @property {number | null} seq   the body's "seq", null if the body was not the expected JSON
 * @property {string | null} key   the Idempotency-Key header
 * @property {string | null} bodyError
 * @property {number} arrivedAt    performance.now() when the request's headers arrived
 * @property {number} answeredAt   performance.now() when the 201 was sent (NaN until then)
 */

/** The GET endpoints of the `get` case: /api/items/:id (a cached route) and /api/other/:id (no route). */
const GET_ITEM = /^\/api\/(items|other)\/([^/]+)$/;

/**
 * The body of GET /api/items/:id and /api/other/:id: a JSON item of about
 * 1 KB, the same for the same id, so the page can check every answer.
 * @param {string} id
 */
export function itemBody(id) {
  return JSON.stringify({ id, name: `item ${id}`, description: `Item ${id} of the bench. `.repeat(40).trim(), updatedAt: '2024-01-01T00:00:00.000Z' });
}

/** The `notice` case's change feed and catch-up endpoints (the manifest's `changes`). */
export const CHANGES_STREAM = '/api/changes/stream';
const CHANGES_SINCE = '/api/changes';

/**
 * The `notice` case's data: `resources` (names), each with items 0 …
 * `items` − 1 and a collection in pages of `pageSize` (page N holds the
 * items N × pageSize …). Every item starts at version 1; `change` bumps one.
 * An item is a JSON object of about 1 KB; a page, the summaries of its items
 * (about 4 KB). ETags follow the versions, so a page changes with any of
 * its items.
 *
 * @typedef {{ resources: string[], items: number, pageSize: number }} CatalogSpec
 */
function createCatalog({ resources, items, pageSize }) {
  const versions = new Map();
  const version = (resource, id) => versions.get(`${resource} ${id}`) ?? 1;
  const pages = Math.ceil(items / pageSize);
  const ids = (page) => Array.from({ length: Math.min(pageSize, items - page * pageSize) }, (_, i) => page * pageSize + i);
  const ITEM = /^\/api\/([^/]+)\/(\d+)$/;
  const COLLECTION = /^\/api\/([^/]+)$/;
  return {
    /** Every cacheable path: each resource's items, then its pages. */
    paths: () => resources.flatMap((r) => [...Array.from({ length: items }, (_, id) => `/api/${r}/${id}`), ...Array.from({ length: pages }, (_, p) => `/api/${r}?page=${p}`)]),
    /** The current answer for `path` (pathname + search): body and ETag, or undefined when it is not the catalog's. */
    lookup(path) {
      const url = new URL(path, 'http://bench');
      const item = ITEM.exec(url.pathname);
      if (item && resources.includes(item[1]) && Number(item[2]) < items) {
        const [, resource, id] = item;
        const v = version(resource, id);
        return { etag: `"${resource}-${id}-v${v}"`, body: catalogItemBody(resource, id, v) };
      }
      const collection = COLLECTION.exec(url.pathname);
      const page = Number(url.searchParams.get('page'));
      if (collection && resources.includes(collection[1]) && url.searchParams.has('page') && Number.isInteger(page) && page >= 0 && page < pages) {
        const resource = collection[1];
        const list = ids(page).map((id) => ({ id: String(id), name: `${resource} ${id}`, version: version(resource, id) }));
        return { etag: `"${resource}-p${page}-${list.reduce((sum, x) => sum + x.version, 0)}"`, body: JSON.stringify(list) };
      }
      return undefined;
    },
    /** Changes item `id` of `resource` on the server; returns its new version. */
    change(resource, id) {
      const v = version(resource, id) + 1;
      versions.set(`${resource} ${id}`, v);
      return v;
    },
    /** The cached paths a notice about `resource` `id` names: the item and every page of its collection. */
    affected: (resource, id) => [`/api/${resource}/${id}`, ...Array.from({ length: pages }, (_, p) => `/api/${resource}?page=${p}`)],
  };
}

/**
 * An item of the `notice` case's catalog, about 1 KB: the same for the same
 * resource, id and version.
 */
function catalogItemBody(resource, id, version) {
  return JSON.stringify({
    id: String(id),
    name: `${resource} ${id}`,
    description: `Item ${id} of ${resource} in the bench. `.repeat(32).trim(),
    version,
    updatedAt: new Date(Date.UTC(2024, 0, 1) + (version - 1) * 60_000).toISOString(),
  });
}

/**
 * @param {{ page: string, files: Map<string, { type: string, body: string | Buffer }>, writeDelayMs: number, pageHeaders?: Record<string, string>, catalog?: CatalogSpec }} options
 *   `pageHeaders`: extra response headers for the page at "/" (the `get` case
 *   makes it cross-origin isolated, for a 5 µs performance.now()).
 *   `catalog`: the `notice` case's resources, change feed and catch-up.
 */
export async function startBenchServer({ page, files, writeDelayMs, pageHeaders = {}, catalog: catalogSpec }) {
  /** @type {Delivery[]} */
  const deliveries = [];
  /** Paths of the GETs to /api/items/:id and /api/other/:id, in arrival order. */
  const gets = [];
  /** Distinct (resource, seq) pairs answered so far, and the time each first was. */
  const answered = new Map();
  /** @type {{ count: number, resolve: () => void }[]} */
  const waiters = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const catalog = catalogSpec && createCatalog(catalogSpec);
  /**
   * The `notice` case's log: every GET of the catalog (path with its query,
   * arrival time, status, whether it was conditional), the open feed
   * connections, how many were ever opened, and the catch-up requests.
   * @type {{ path: string, arrivedAt: number, status: number, conditional: boolean }[]}
   */
  const catalogGets = [];
  /** @type {Set<import('node:http').ServerResponse>} */
  const streams = new Set();
  let streamsOpened = 0;
  /** @type {{ path: string, arrivedAt: number }[]} */
  const catchUps = [];
  let lastCursor;

  const server = createServer((req, res) => {
    const arrivedAt = performance.now();
    const { pathname } = new URL(req.url ?? '/', 'http://bench');
    const write = req.method === 'POST' && /^\/api\/r\/([^/]+)$/.exec(pathname);
    if (write) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      /** @type {Delivery} */
      const delivery = {
        index: deliveries.length,
        resource: decodeURIComponent(write[1]),
        seq: null,
        key: header(req.headers['idempotency-key']),
        bodyError: null,
        arrivedAt,
        answeredAt: Number.NaN,
      };
      deliveries.push(delivery);
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (String(body.resource) !== delivery.resource || !Number.isInteger(body.seq)) throw new Error(`unexpected body ${JSON.stringify(body)}`);
          delivery.seq = body.seq;
        } catch (error) {
          delivery.bodyError = String(error);
        }
        setTimeout(() => {
          res.writeHead(201, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify({ resource: delivery.resource, seq: delivery.seq }));
          delivery.answeredAt = performance.now();
          inFlight--;
          const pair = `${delivery.resource}:${delivery.seq}`;
          if (delivery.seq !== null && !answered.has(pair)) answered.set(pair, delivery.answeredAt);
          for (const waiter of waiters.filter((w) => answered.size >= w.count)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }, writeDelayMs);
      });
      return;
    }
    if (catalog && req.method === 'GET') {
      const served = serveCatalog(req, res, pathname, arrivedAt);
      if (served) return;
    }
    const item = req.method === 'GET' && GET_ITEM.exec(pathname);
    if (item) {
      gets.push(pathname);
      return send(res, 200, 'application/json', itemBody(decodeURIComponent(item[2])));
    }
    if (req.method === 'GET' && pathname === '/') return send(res, 200, 'text/html; charset=utf-8', page, pageHeaders);
    const file = req.method === 'GET' ? files.get(pathname) : undefined;
    if (file) return send(res, 200, file.type, file.body);
    send(res, 404, 'text/plain', `no ${req.method} ${pathname}`);
  });
  /** The `notice` case's endpoints; false when `pathname` is none of them. */
  function serveCatalog(req, res, pathname, arrivedAt) {
    const { search, searchParams } = new URL(req.url ?? '/', 'http://bench');
    if (pathname === CHANGES_STREAM) {
      // Server-Sent Events: headers and a comment at once, so the page's EventSource opens now.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': bench change feed\n\n');
      streams.add(res);
      streamsOpened++;
      res.on('close', () => streams.delete(res));
      return true;
    }
    if (pathname === CHANGES_SINCE && searchParams.has('since')) {
      catchUps.push({ path: pathname + search, arrivedAt });
      // Nothing is ever missed here: the harness publishes on open connections only.
      const body = JSON.stringify({ notices: [], cursor: lastCursor ?? searchParams.get('since') });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(body);
      return true;
    }
    const entry = catalog.lookup(pathname + search);
    if (!entry) return false;
    const conditional = req.headers['if-none-match'] !== undefined;
    const status = conditional && header(req.headers['if-none-match']) === entry.etag ? 304 : 200;
    catalogGets.push({ path: pathname + search, arrivedAt, status, conditional });
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-cache', etag: entry.etag });
    res.end(status === 304 ? undefined : entry.body);
    return true;
  }

  // Chromium keeps idle connections for a while; keep them open longer than it does.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;

  const port = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(/** @type {import('node:net').AddressInfo} */ (server.address()).port));
  });

  return {
    origin: `http://127.0.0.1:${port}`,
    deliveries,
    /** How many GETs to paths starting with `prefix` (/api/items/ or /api/other/) the server has answered. */
    getCount: (prefix) => gets.filter((path) => path.startsWith(prefix)).length,
    /** How many distinct (resource, seq) writes have been answered. */
    answeredCount: () => answered.size,
    maxInFlight: () => maxInFlight,
    /** The `notice` case (null without the `catalog` option). */
    notices: catalog
      ? {
          /** Every cacheable path of the catalog (pathname + search). */
          paths: catalog.paths,
          /** The current body of a catalog path. */
          body: (path) => catalog.lookup(path)?.body,
          affected: catalog.affected,
          change: catalog.change,
          gets: catalogGets,
          catchUps,
          /** Open feed connections now, and ever opened. */
          streams: () => streams.size,
          streamsOpened: () => streamsOpened,
          /**
           * Writes `notice` as one `data:` line to every open feed connection;
           * returns when (performance.now(), taken just before writing) and to how many.
           */
          publish(notice) {
            lastCursor = notice.cursor ?? lastCursor;
            const chunk = `data: ${JSON.stringify(notice)}\n\n`;
            const publishedAt = performance.now();
            for (const stream of streams) stream.write(chunk);
            return { publishedAt, streams: streams.size };
          },
        }
      : null,
    /**
     * Resolves true once `count` distinct writes have been answered, or false
     * after `timeoutMs` (the caller decides whether that is an error).
     */
    waitForAnswered(count, timeoutMs) {
      if (answered.size >= count) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve(false);
        }, timeoutMs);
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(true);
          },
        };
        waiters.push(waiter);
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
    },
  };
}

function header(value) {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

function send(res, status, type, body, headers = {}) {
  // Revalidated on every load, so only a worker can answer a reload offline.
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache', ...headers });
  res.end(body);
}
