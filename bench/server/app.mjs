/**
 * The server of the throughput case, one process on its own CPU:
 *
 *   node app.mjs <bare|memory|redis> <dist/server.mjs> [redis://…]
 *
 * `POST /items` is the JSON handler every subject shares: it takes the
 * parsed body (the middleware's `req.body` where it read the body to
 * fingerprint it, as Express's body parser would; its own read and parse
 * otherwise) and answers 201 with a small JSON body. `bare` runs it alone;
 * `memory` and `redis` put `idempotency()` on memoryStore() or redisStore()
 * in front of it. `GET /__stats` (never through the middleware) tells the
 * load generator how often the handler ran and the CPU this process used.
 * Says `{ type: 'ready', port }` over IPC once listening; SIGTERM stops it.
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [subject, distFile, redisUrl] = process.argv.slice(2);
/** Tells the parent why, then exits; never settles, so `await fail(…)` stops here. */
const fail = (message) => new Promise(() => process.send({ type: 'error', message }, () => process.exit(1)));
if (!['bare', 'memory', 'redis'].includes(subject ?? '')) await fail(`subject "${subject}": expected bare, memory or redis`);

let handlerRuns = 0;

const readJson = (req) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });

function answer(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function createItem(req, res) {
  const item = req.body !== undefined ? req.body : await readJson(req);
  handlerRuns += 1;
  answer(res, 201, { id: String(handlerRuns), title: item.title, done: item.done === true });
}

let client;
let store;
let guard = (_req, _res, next) => next();
if (subject !== 'bare') {
  const lib = await import(pathToFileURL(distFile).href).catch((error) => fail(`cannot import ${distFile}: ${error.message}`));
  if (subject === 'memory') store = lib.memoryStore();
  else {
    const { createClient } = await import('redis');
    client = createClient({ url: redisUrl });
    client.on('error', (error) => console.error(`bench server: redis client: ${error.message}`));
    await client.connect().catch((error) => fail(`cannot connect to ${redisUrl}: ${error.message}`));
    store = lib.redisStore(client, { prefix: 'bench:' });
  }
  guard = lib.idempotency({ store });
}

const server = createServer((req, res) => {
  if (req.url === '/__stats') {
    const cpu = process.cpuUsage();
    return answer(res, 200, { handlerRuns, cpuMs: (cpu.user + cpu.system) / 1000, at: performance.timeOrigin + performance.now() });
  }
  if (req.method !== 'POST' || req.url !== '/items') return answer(res, 404, { error: 'not found' });
  const onError = (error) => {
    console.error(`bench server: ${error?.stack ?? error}`);
    if (!res.headersSent) answer(res, 500, { error: String(error?.message ?? error) });
    else res.destroy();
  };
  try {
    const pending = guard(req, res, (error) => (error ? onError(error) : createItem(req, res).catch(onError)));
    if (pending && typeof pending.catch === 'function') pending.catch(onError);
  } catch (error) {
    onError(error);
  }
});
// The load generator's connections stay open between its requests.
server.keepAliveTimeout = 30_000;

server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));

process.on('SIGTERM', async () => {
  server.close();
  server.closeAllConnections();
  await store?.close();
  await client?.quit().catch(() => {});
  process.exit(0);
});
