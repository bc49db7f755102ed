// The todo example: a REST app (this server and public/) with no offline code
// of its own, made to work offline by one script tag and offline.manifest.json.
// Node's standard library only.
//
//   npm run build && node examples/todo/server.mjs
//   PORT=8080 (0: a free port)   TODO_DATA=<file> (default examples/todo/data/todos.json)
//   TODO_QUIET=1 (no access log)
//   TODO_LATENCY_MS=<n> (writes answered n ms late: a slow network, so a replay can be watched)
//
// The API, the change feed and Idempotency-Key are described in lib/todos.mjs,
// lib/change-feed.mjs and lib/idempotency.mjs.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createChangeFeed } from './lib/change-feed.mjs';
import { createDataFile, readDataFile } from './lib/data-file.mjs';
import { createIdempotencyKeys, fingerprint, keyInFlight, keyReused, malformedKey, parseKey, replayOf } from './lib/idempotency.mjs';
import { createTodos, json } from './lib/todos.mjs';

const port = Number(process.env.PORT ?? 5173);
const dataPath = resolve(process.env.TODO_DATA ?? fileURLToPath(new URL('data/todos.json', import.meta.url)));
const quiet = process.env.TODO_QUIET === '1';
const latencyMs = Number(process.env.TODO_LATENCY_MS ?? 0);
const MAX_BODY_BYTES = 1024 * 1024;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000; // an hour
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const DATA_FORMAT = 1;

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

let saved;
try {
  saved = await readDataFile(dataPath);
  if (saved !== undefined && saved?.format !== DATA_FORMAT)
    throw new Error(`${dataPath} is not a data file of this example (format ${DATA_FORMAT}); delete it or point TODO_DATA elsewhere`);
} catch (error) {
  console.error(`todo example: ${error.message}`);
  process.exit(1);
}
const todos = createTodos(saved);
const feed = createChangeFeed(saved?.changes);
const keys = createIdempotencyKeys(saved?.idempotency);
const data = createDataFile(dataPath, () => ({ format: DATA_FORMAT, ...todos.toJSON(), changes: feed.toJSON(), idempotency: keys.toJSON() }));
if (!saved) await data.save();
setInterval(() => keys.prune(), PRUNE_INTERVAL_MS).unref();

/** Saves, then announces the notices the save covered: a client never hears of a change the server could still lose. */
async function commit() {
  const upTo = feed.last;
  await data.save();
  feed.broadcast(upTo);
}

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

async function serveTodos(req, res, url, id) {
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const key = WRITES.has(method) ? parseKey(req.headers['idempotency-key']) : undefined;
  if (key === null) return send(res, malformedKey());
  if (key !== undefined && !keys.begin(key)) return send(res, keyInFlight());
  try {
    const body = WRITES.has(method) ? await readBody(req) : Buffer.alloc(0);
    const print = key && fingerprint(method, url.pathname + url.search, body);
    const record = key && keys.find(key);
    if (record) return send(res, record.fingerprint === print ? replayOf(record) : keyReused());
    const { reply, change } = todos.handle(method, id, { query: url.searchParams, headers: req.headers, body: body.toString('utf8') });
    if (change) feed.publish(change);
    if (key) keys.remember(key, print, reply);
    if (change || key) {
      try {
        await commit();
      } catch (error) {
        // The change stands in memory (and its key, so a retry is not applied twice); the next save writes it.
        console.error(`todo example: could not save ${dataPath}:`, error);
        return send(res, json(500, { error: `the change was made but could not be saved (${error.code ?? error.message})` }));
      }
    }
    send(res, reply);
  } catch (error) {
    if (!(error instanceof TooLarge)) throw error;
    send(res, json(413, { error: `the body is over ${MAX_BODY_BYTES} bytes` }, { connection: 'close' }));
  } finally {
    if (key !== undefined) keys.end(key);
  }
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

async function route(req, res) {
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
    if (latencyMs > 0 && WRITES.has(req.method)) await new Promise((r) => setTimeout(r, latencyMs));
    return serveTodos(req, res, url, id);
  }
  if (pathname === '/api/changes/stream' && req.method === 'GET') {
    feed.open(req, res);
    eventStreams.add(res);
    if (!quiet) accessLog(req, res);
    return;
  }
  if (pathname === '/api/changes' && reading) return send(res, json(200, feed.since(url.searchParams.get('since'))));
  if (Object.hasOwn(FILES, pathname) && reading) return serveFile(req, res, pathname);
  if (Object.hasOwn(FILES, pathname) || pathname.startsWith('/api/changes'))
    return send(res, json(405, { error: `${req.method} is not allowed on ${pathname}` }, { allow: 'GET, HEAD' }));
  send(res, json(404, { error: `nothing at ${pathname}` }));
}

const accessLog = (req, res) => console.log(`${new Date().toTimeString().slice(0, 8)} ${req.method} ${req.url} ${res.statusCode}`);

const server = createServer((req, res) => {
  if (!quiet) res.once('close', () => eventStreams.has(res) || accessLog(req, res));
  route(req, res).catch((error) => {
    console.error(`todo example: ${req.method} ${req.url} failed:`, error);
    if (!res.headersSent) send(res, json(500, { error: 'the server failed; see its log' }));
    else res.destroy();
  });
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

  Data: ${dataPath} (delete it to start again). Needs dist/: npm run build.
`);
});

function stop() {
  server.close();
  feed.close();
  server.closeIdleConnections();
  data.settled().then(() => process.exit(0));
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
