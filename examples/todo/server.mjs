// The todo example: a REST app (this server and public/) with no offline code
// of its own, made to work offline by one script tag and offline.manifest.json.
// Its server half is offline-outbox/server: idempotency() on the API's
// writes, changeFeed() for the change notices. Node's standard library
// otherwise (and node-redis when REDIS_URL is set).
//
//   npm start                 (npm run build && node examples/todo/server.mjs)
//   PORT=8080 (0: a free port)   TODO_DATA=<file> (default examples/todo/data/todos.json)
//   REDIS_URL=redis://…       the todos, keys and feed in Redis: many instances, one data set
//   TODO_QUIET=1 (no access log)
//   TODO_LATENCY_MS=<n> (writes answered n ms late: a slow network, so a replay can be watched)
//   TODO_LEASE_SECONDS=<n> (how long a crashed request holds its Idempotency-Key; default 30)
//
// The API is described in lib/todos.mjs, where the data lives in lib/storage.mjs.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { changeFeed, idempotency } from 'offline-outbox/server';
import { openStorage } from './lib/storage.mjs';
import { json } from './lib/todos.mjs';

const MAX_BODY_BYTES = 1024 * 1024;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A number of at least `min` from the environment, or exit saying which variable is wrong. */
function numberFrom(name, fallback, min = 0) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (Number.isFinite(value) && value >= min) return value;
  console.error(`todo example: ${name}=${text} is not a number of ${min} or more; fix it or unset it`);
  process.exit(1);
}

const port = numberFrom('PORT', 5173);
const latencyMs = numberFrom('TODO_LATENCY_MS', 0);
const leaseSeconds = numberFrom('TODO_LEASE_SECONDS', 30, 0.1);
const redisUrl = process.env.REDIS_URL || undefined;
const dataPath = resolve(process.env.TODO_DATA ?? fileURLToPath(new URL('data/todos.json', import.meta.url)));
const quiet = process.env.TODO_QUIET === '1';

const here = new URL('./', import.meta.url);
const dist = new URL('../../dist/', import.meta.url);
const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const FILES = {
  '/': [new URL('public/index.html', here), HTML],
  '/app.js': [new URL('public/app.js', here), JS],
  '/style.css': [new URL('public/style.css', here), 'text/css; charset=utf-8'],
  '/offline.manifest.json': [new URL('offline.manifest.json', here), 'application/json; charset=utf-8'],
  '/sw.js': [new URL('sw.js', dist), JS],
  '/register.js': [new URL('register.js', dist), JS],
  // register.js loads it from beside itself for the page's data-ui.
  '/outbox-status.js': [new URL('outbox-status.js', dist), JS],
};

let storage;
try {
  storage = await openStorage(redisUrl ? { redisUrl } : { dataPath });
} catch (error) {
  console.error(`todo example: ${error.message}`);
  process.exit(1);
}
if (storage.notice) console.error(`todo example: ${storage.notice}`);

// Keys are checked as the draft writes them (a quoted string), as the worker sends them.
const keys = idempotency({ store: storage.store, strict: true, leaseSeconds });
const feed = changeFeed({ store: storage.store });

function send(res, reply) {
  res.writeHead(reply.status, { 'cache-control': 'no-cache', ...reply.headers });
  res.end(reply.body);
}

class TooLarge extends Error {}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new TooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Runs after idempotency(): a write with a key has claimed it, and its body is in `req.rawBody`. */
async function serveTodos(req, res, url, id) {
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const writing = WRITES.has(method);
  // After the claim: a slow write holds its key, as a slow handler would.
  if (latencyMs > 0 && writing) await new Promise((r) => setTimeout(r, latencyMs));
  let body = '';
  if (writing) {
    try {
      body = (req.rawBody ?? (await readBody(req))).toString('utf8');
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      return send(res, json(413, { error: `the body is over ${MAX_BODY_BYTES} bytes` }, { connection: 'close' }));
    }
  }
  let result;
  try {
    result = await storage.todos.handle(method, id, { query: url.searchParams, headers: req.headers, body });
  } catch (error) {
    // Nothing was changed (a write's state is stored whole or not at all), so the request can be sent again.
    console.error(`todo example: ${req.method} ${req.url}: the todos could not be read or stored: ${error.message}`);
    return send(
      res,
      json(503, { error: `the todos could not be read or stored (${error.code ?? error.message}); nothing was changed, retry in a moment` }, { 'retry-after': '1' }),
    );
  }
  const { reply, change } = result;
  if (change) {
    try {
      reply.headers['x-change-cursor'] = await feed.publish(change);
    } catch (error) {
      // The change is made and answered as made; only its notice is lost, and other pages see it when they next revalidate.
      console.error(`todo example: ${req.method} ${req.url}: the change was made but its notice could not be published:`, error);
    }
  }
  send(res, reply);
}

async function serveFile(_req, res, pathname) {
  const [file, type] = FILES[pathname];
  let body;
  try {
    body = await readFile(file);
  } catch (error) {
    const missing = fileURLToPath(file);
    const hint = file.href.startsWith(dist.href) ? 'run npm run build (in the package folder), then reload' : 'is the example complete?';
    return send(res, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${missing} is missing (${error.code}): ${hint}\n` });
  }
  send(res, { status: 200, headers: { 'content-type': type }, body });
}

/** Event streams stay open: they are logged when they start, everything else when answered. */
const eventStreams = new WeakSet();

function route(req, res, fail) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const { pathname } = url;
  const reading = req.method === 'GET' || req.method === 'HEAD';
  const todo = /^\/api\/todos(?:\/([^/]+))?$/.exec(pathname);
  if (todo) {
    let id;
    try {
      id = todo[1] === undefined ? undefined : decodeURIComponent(todo[1]);
    } catch {
      return send(res, json(400, { error: `${pathname} is not a valid URL path` }));
    }
    return keys(req, res, (error) => (error ? fail(error) : serveTodos(req, res, url, id).catch(fail)));
  }
  if (pathname === '/api/changes/stream' && req.method === 'GET') {
    eventStreams.add(res);
    if (!quiet) accessLog(req, res);
    return feed.sse(req, res);
  }
  if (pathname === '/api/changes' && reading) return feed.since(req, res);
  if (Object.hasOwn(FILES, pathname) && reading) return serveFile(req, res, pathname);
  if (Object.hasOwn(FILES, pathname) || pathname.startsWith('/api/changes'))
    return send(res, json(405, { error: `${req.method} is not allowed on ${pathname}` }, { allow: 'GET, HEAD' }));
  send(res, json(404, { error: `nothing at ${pathname}` }));
}

const accessLog = (req, res) => console.log(`${new Date().toTimeString().slice(0, 8)} ${req.method} ${req.url} ${res.statusCode}`);

const server = createServer((req, res) => {
  if (!quiet) res.once('close', () => eventStreams.has(res) || accessLog(req, res));
  const fail = (error) => {
    console.error(`todo example: ${req.method} ${req.url} failed:`, error);
    if (!res.headersSent) send(res, json(500, { error: 'the server failed; see its log' }));
    else res.destroy();
  };
  try {
    Promise.resolve(route(req, res, fail)).catch(fail);
  } catch (error) {
    fail(error);
  }
});

server.listen(port, '127.0.0.1', () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  console.log(`todo example: ${origin}/

  What to try:
    1. Open ${origin}/ and reload it once (the service worker now controls the page).
    2. DevTools → Network → Offline (or stop this server with Ctrl-C).
    3. Add, tick, rename and delete todos: the changes not yet sent show greyed.
    4. Reload: the page and your changes are still there.
    5. Go online (or start the server again): the queued writes replay, in order,
       each once, in the log below.

  ${storage.where} Needs dist/: npm run build.
`);
});

async function stop() {
  server.close();
  feed.close();
  server.closeIdleConnections();
  try {
    await storage.close();
  } catch (error) {
    console.error('todo example: while stopping:', error);
  }
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
