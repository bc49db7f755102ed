// The items example: a small REST app with no offline code of its own, made
// to work offline by one script tag and offline.manifest.json.
//   npm start            (builds offline-outbox, then runs this on 127.0.0.1:5173)
//   PORT=8080 npm start
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const port = Number(process.env.PORT ?? 5173);
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css', '.json': 'application/json' };

const items = [
  { id: 1, name: 'Milk' },
  { id: 2, name: 'Bread' },
];

const files = {
  '/': join(here, 'public/index.html'),
  '/app.js': join(here, 'public/app.js'),
  '/style.css': join(here, 'public/style.css'),
  '/offline.manifest.json': join(here, 'offline.manifest.json'),
  '/sw.js': join(dist, 'sw.js'),
  '/register.js': join(dist, 'register.js'),
  // register.js loads it from beside itself when its tag has data-ui.
  '/outbox-status.js': join(dist, 'outbox-status.js'),
};

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url ?? '/', 'http://x');
  console.log(`${new Date().toISOString().slice(11, 19)} ${req.method} ${req.url}`);
  if (pathname === '/api/items' && req.method === 'GET') return send(res, 200, { items, servedAt: new Date().toISOString() });
  if (pathname === '/api/items' && req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    const name = String(JSON.parse(body || '{}').name ?? '').trim();
    if (!name) return send(res, 400, { error: 'name is required' });
    const item = { id: Math.max(0, ...items.map((i) => i.id)) + 1, name };
    items.push(item);
    return send(res, 201, item);
  }
  const file = req.method === 'GET' && files[pathname];
  if (!file) return send(res, 404, { error: `no ${req.method} ${pathname}` });
  try {
    send(res, 200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
  } catch {
    send(res, 500, { error: `${file} is missing; run npm run build` });
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`
  Items example: http://127.0.0.1:${server.address().port}/

  Try it:
    1. open the page, then reload it once (the worker now controls it);
    2. DevTools → Network → Offline (or stop this server);
    3. reload: the page and its list still open, from the worker's cache;
    4. check the manifest: node dist/cli.mjs check examples/items/offline.manifest.json
`);
});
