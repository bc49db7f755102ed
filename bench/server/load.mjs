/**
 * The load generator of the throughput case, one process on its own CPU:
 *
 *   node load.mjs '<json: { port, connections, warmupMs, durationMs, keys, client }>'
 *
 * `connections` loops, each on its own keep-alive connection, send
 * `POST /items` with the same small JSON body back to back, one request at
 * a time per connection. `client`: `raw` (raw-client.mjs, lean) or `http`
 * (node:http with a keep-alive Agent). `keys`: `none` (no Idempotency-Key),
 * `fresh` (a new key per request) or `replay` (one key: sent once before the
 * warm-up, then every request is a replay of it). Requests that complete
 * during the warm-up are not counted; those that complete within the
 * measured window are, with their latency. Sends `{ type: 'result', … }`
 * over IPC and exits.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { openRawConnection } from './raw-client.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const { port, connections, warmupMs, durationMs, keys, client } = config;
const BODY = JSON.stringify({ title: 'buy milk', done: false, tags: ['home', 'errand'], quantity: 2 });
const REQUEST_TIMEOUT_MS = 10_000;

const runId = `${process.pid.toString(36)}-${Date.now().toString(36)}`;
let sent = 0;
const keyFor = keys === 'fresh' ? () => `"bench-${runId}-${(sent++).toString(36)}"` : keys === 'replay' ? () => `"bench-${runId}-replayed"` : () => undefined;
const headersFor = () => {
  const key = keyFor();
  return key ? { 'content-type': 'application/json', 'idempotency-key': key } : { 'content-type': 'application/json' };
};

/** A connection of node:http's client: every loop shares the Agent, which keeps one socket per loop. */
function openHttpConnection() {
  // noDelay: headers and body go out as two writes; with Nagle's algorithm the second waits for the server's delayed ACK (about 40 ms).
  const agent = (openHttpConnection.agent ??= new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, noDelay: true }));
  const post = (path, headers, body) =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(
        { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) }, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve({ status: res.statusCode, replayed: res.headers['idempotent-replayed'] === 'true', ms: performance.now() - started }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  // The Agent replaces a failed socket itself; it is destroyed once, at the end.
  return Promise.resolve({ post, close: () => {} });
}

const open = client === 'http' ? openHttpConnection : () => openRawConnection(port, REQUEST_TIMEOUT_MS);

const stats = () =>
  new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/__stats', agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(JSON.parse(text)));
    })
      .on('error', reject)
      .end();
  });

async function main() {
  await send({ type: 'ready' });
  const pool = await Promise.all(Array.from({ length: connections }, () => open()));
  let first;
  if (keys === 'replay') first = await pool[0].post('/items', headersFor(), BODY);

  const latencies = [];
  const statuses = {};
  let replayed = 0;
  let errors = 0;
  let lastError = '';
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const measureTo = measureFrom + durationMs;
  let serverBefore;
  let cpuBefore;
  const marks = setTimeout(async () => {
    cpuBefore = process.cpuUsage();
    serverBefore = await stats();
  }, warmupMs);

  async function loop(index) {
    while (performance.now() < measureTo) {
      try {
        const r = await pool[index].post('/items', headersFor(), BODY);
        const now = performance.now();
        if (now < measureFrom || now > measureTo) continue;
        latencies.push(r.ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.replayed) replayed += 1;
      } catch (error) {
        errors += 1;
        lastError = error.message;
        // A connection that failed is replaced, so the concurrency stays as asked.
        pool[index].close();
        pool[index] = await open();
      }
    }
  }
  await Promise.all(pool.map((_, i) => loop(i)));
  clearTimeout(marks);
  const cpuAfter = process.cpuUsage(cpuBefore);
  const serverAfter = await stats();
  for (const c of pool) c.close();
  openHttpConnection.agent?.destroy();

  latencies.sort((a, b) => a - b);
  const at = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null);
  const serverWallMs = serverBefore ? serverAfter.at - serverBefore.at : null;
  await send({
    type: 'result',
    requests: latencies.length,
    requestsPerSecond: latencies.length / (durationMs / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    statuses,
    replayed,
    errors,
    lastError,
    first: first ? { status: first.status, replayed: first.replayed } : null,
    /** The handler's runs while the measured requests were answered (a little wider: until the last in-flight one ended). */
    handlerRuns: serverBefore ? serverAfter.handlerRuns - serverBefore.handlerRuns : null,
    serverCpu: serverWallMs ? (serverAfter.cpuMs - serverBefore.cpuMs) / serverWallMs : null,
    /** The server's CPU time per answered request, whoever set the pace. */
    serverCpuPerRequestUs: serverWallMs && latencies.length ? (((serverAfter.cpuMs - serverBefore.cpuMs) / serverWallMs) * durationMs * 1000) / latencies.length : null,
    loadCpu: (cpuAfter.user + cpuAfter.system) / 1000 / (performance.now() - measureFrom),
  });
}

/** Resolves once the message is handed to the parent (exiting earlier could lose it). */
const send = (message) => new Promise((resolve) => process.send(message, () => resolve()));

main().then(
  () => process.exit(0),
  async (error) => {
    await send({ type: 'error', message: error?.stack ?? String(error) });
    process.exit(1);
  },
);
