/**
 * The bench's HTTP server, on 127.0.0.1 only: the same code serves every
 * subject. It serves the page (bench/lib/page.js inlined, plus the subject's
 * registration tag), the subject's static files, and the write endpoint
 * POST /api/r/:id, which waits `writeDelayMs` (20 ms) and answers 201.
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

/**
 * @param {{ page: string, files: Map<string, { type: string, body: string | Buffer }>, writeDelayMs: number }} options
 */
export async function startBenchServer({ page, files, writeDelayMs }) {
  /** @type {Delivery[]} */
  const deliveries = [];
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
    if (req.method === 'GET' && pathname === '/') return send(res, 200, 'text/html; charset=utf-8', page);
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

function send(res, status, type, body) {
  // Revalidated on every load, so only a worker can answer a reload offline.
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
  res.end(body);
}
