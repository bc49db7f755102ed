/**
 * The bench's HTTP server, on 127.0.0.1 only: the same code serves every
 * subject. It serves the page (bench/lib/page.js inlined, plus the subject's
 * registration tag), the subject's static files, the write endpoint
 * POST /api/r/:id, which waits `writeDelayMs` (20 ms) and answers 201, and
 * for the `get` case GET /api/items/:id and GET /api/other/:id, answered at
 * once with `itemBody(id)` (200, `Cache-Control: no-cache` and no
 * validator, so the browser's HTTP cache never answers them by itself).
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

/**
 * @param {{ page: string, files: Map<string, { type: string, body: string | Buffer }>, writeDelayMs: number, pageHeaders?: Record<string, string> }} options
 *   `pageHeaders`: extra response headers for the page at "/" (the `get` case
 *   makes it cross-origin isolated, for a 5 µs performance.now()).
 */
export async function startBenchServer({ page, files, writeDelayMs, pageHeaders = {} }) {
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

  const server = createServer((req, res) => {
    const arrivedAt = performance.now();
    const { pathname } = new URL(req.url ?? '/', 'http://bench');
    const write = req.method === 'POST' && /^\/api\/r\/([^/]+)$/.exec(pathname);
    if (write) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      /** @type {Delivery} */
      const delivery = { index: deliveries.length, resource: decodeURIComponent(write[1]), seq: null, key: header(req.headers['idempotency-key']), bodyError: null, arrivedAt, answeredAt: Number.NaN };
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
