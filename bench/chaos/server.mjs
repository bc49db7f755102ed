/**
 * The chaos suite's own server: plain node:http on 127.0.0.1, nothing from
 * the product. It serves the page and the subject's files, takes the writes
 * `POST /api/r/:item` (JSON body `{"item": i, "seq": k}`), and logs every
 * request it gets (method, path, Idempotency-Key, body, arrival time, what it
 * did, whether the answer went out).
 *
 * - Every answer is delayed 5..30 ms (seeded stream).
 * - A seeded 20 % of write requests are answered 503 without being applied.
 *   The decision is a hash of (seed, item, seq, n) where n counts this
 *   write's arrivals, so it depends on the request, not on timing.
 * - `idempotent: true`: a request whose Idempotency-Key was already applied
 *   is not applied again; it gets the first answer again (201, with
 *   `Idempotent-Replayed: true`). `false`: every request that is not a 503 is
 *   applied, key or not. A write is applied when it arrives (before the
 *   latency), so a connection cut during the latency leaves a write applied
 *   whose answer never went out, as on a real network.
 * - `unplug()` stops accepting and destroys every open socket (requests in
 *   their latency die unanswered); `plug()` listens again on the same port.
 *   That is "offline" in every engine, the same way as test/support/test-server.ts.
 */
import { createServer } from 'node:http';
import { rng, unitHash } from './random.mjs';

export const WRITE_PATH = /^\/api\/r\/([^/?#]+)$/;

/**
 * @param {{
 *   seed: string,
 *   idempotent: boolean,
 *   page: string,
 *   files: Map<string, { type: string, body: string | Buffer }>,
 *   failRate?: number,
 *   latencyMs?: [number, number],
 * }} options
 */
export async function startChaosServer({ seed, idempotent, page, files, failRate = 0.2, latencyMs = [5, 30] }) {
  const latency = rng(seed, 'latency');
  /** Every request, in arrival order. */
  const log = [];
  /** Every application of a write, in the order the server applied them. */
  const applications = [];
  /** Idempotency-Key → the answer of its application (idempotent mode). */
  const appliedKeys = new Map();
  /** `${item}:${seq}` → arrivals so far (the n of the 503 decision). */
  const arrivals = new Map();
  const sockets = new Set();
  let plugged = true;
  let lastWriteAt = 0;
  let writeCount = 0;

  const server = createServer(async (req, res) => {
    const at = Date.now();
    const chunks = [];
    try {
      for await (const chunk of req) chunks.push(chunk);
    } catch {
      // The socket died while the body was arriving (unplugged): nothing to log.
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    const rawKey = req.headers['idempotency-key'];
    // A Structured-Field string: "…" (the product quotes it); tolerate a bare token.
    const key = typeof rawKey === 'string' ? rawKey.trim().replace(/^"(.*)"$/, '$1') : null;
    const entry = { at, method: req.method ?? 'GET', path, key, body: undefined, status: 0, outcome: 'served', answered: false };
    log.push(entry);

    let status = 200;
    let type = 'text/plain; charset=utf-8';
    let payload = '';
    const headers = { 'cache-control': 'no-cache' };
    const write = req.method === 'POST' ? WRITE_PATH.exec(path) : null;
    if (write) {
      lastWriteAt = at;
      writeCount++;
      entry.body = body;
      let parsed;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = null;
      }
      const item = parsed?.item;
      const seq = parsed?.seq;
      if (!Number.isInteger(item) || !Number.isInteger(seq) || String(item) !== decodeURIComponent(write[1])) {
        // A corrupted body (empty, re-encoded, another item's): never applied.
        entry.outcome = 'bad';
        status = 400;
        payload = JSON.stringify({ error: 'bad write body' });
      } else {
        entry.item = item;
        entry.seq = seq;
        const id = `${item}:${seq}`;
        const n = arrivals.get(id) ?? 0;
        arrivals.set(id, n + 1);
        entry.n = n;
        type = 'application/json';
        if (unitHash(seed, 'fail', item, seq, n) < failRate) {
          entry.outcome = '503';
          status = 503;
          payload = JSON.stringify({ error: 'overloaded (chaos)' });
        } else if (idempotent && key && appliedKeys.has(key)) {
          entry.outcome = 'replayed';
          status = appliedKeys.get(key).status;
          payload = appliedKeys.get(key).payload;
          headers['idempotent-replayed'] = 'true';
        } else {
          entry.outcome = 'applied';
          status = 201;
          payload = JSON.stringify({ item, seq, applied: applications.length });
          applications.push({ at, item, seq, key });
          if (key) appliedKeys.set(key, { status, payload });
        }
      }
    } else if (req.method === 'GET' && path === '/') {
      type = 'text/html; charset=utf-8';
      payload = page;
    } else if (req.method === 'GET' && files.has(path)) {
      const file = files.get(path);
      type = file.type;
      payload = file.body;
    } else {
      status = 404;
      payload = `no ${req.method} ${path}`;
    }
    entry.status = status;

    const [low, high] = latencyMs;
    await new Promise((resolve) => setTimeout(resolve, low + latency() * (high - low)));
    if (res.destroyed || req.socket.destroyed) return;
    res.writeHead(status, { 'content-type': type, ...headers });
    res.end(payload);
    entry.answered = true;
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Keep idle connections longer than the browsers do: only unplug() cuts them.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;

  const listen = (port) =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server.address().port);
      });
    });
  const port = await listen(0);

  async function unplug() {
    if (!plugged) return;
    plugged = false;
    const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    applications,
    get plugged() {
      return plugged;
    },
    /** When the last write request arrived (ms since epoch; 0: none yet). */
    lastWriteAt: () => lastWriteAt,
    /** Write requests received so far. */
    writeRequests: () => writeCount,
    unplug,
    async plug() {
      if (plugged) return;
      // The port was ours a moment ago; if something else took it, say so.
      await listen(port);
      plugged = true;
    },
    close: unplug,
  };
}
