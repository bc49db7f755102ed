/**
 * Apps for `offline-outbox doctor` to probe. `startApp` is a small node:http
 * app, healthy by default (doctor finds no blocker, no warning), with one
 * flag per defect doctor must find; it records what it was asked, so a test
 * can say doctor never wrote. `startJsonServer` runs the real json-server
 * 1.x, the backend of issue 12. Both listen on 127.0.0.1, on free ports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const DIST = new URL('../../dist/', import.meta.url);
const JS = 'text/javascript; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const STARTUP_MS = 15_000;

export interface AppDefects {
  /** The folder register.js, sw.js and the manifest are served from (`/static`). @default the root */
  folder?: string;
  /** `data-scope` on the register.js tag. */
  dataScope?: string;
  /** `Service-Worker-Allowed` sent with sw.js. */
  serviceWorkerAllowed?: string;
  /** sw.js's Content-Type. @default text/javascript */
  workerType?: string;
  /** The page has no register.js tag. */
  noTag?: boolean;
  /** The manifest answers 404. */
  noManifest?: boolean;
  /** The manifest's text, instead of a valid one. */
  manifestText?: string;
  /** The item's ETag. @default "strong" */
  etag?: 'strong' | 'weak' | 'none';
  /** The event stream: right, served as JSON, or headers and then nothing. @default "ok" */
  stream?: 'ok' | 'wrong-type' | 'silent';
  /** `since` answers `{"events": []}`, which the worker cannot read. */
  wrongSince?: boolean;
  /** `/api/todos` answers with `Vary: *`. */
  varyStar?: boolean;
  /** A cache route `/old` that answers 302 → `/new`. */
  redirectRoute?: boolean;
  /** A cache route `/api/me` (without `"private": true`) that answers `Cache-Control: private`. */
  privateRoute?: boolean;
  /** No `Idempotency-Key-Supported` on the API's answers. */
  noIdempotency?: boolean;
}

export interface DoctorApp {
  url: string;
  /** Every request, as `METHOD /path?query`, in arrival order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** The manifest the app serves: its shell, the todos resource, the feed, and the routes the defects add. */
export function appManifest({ folder = '', redirectRoute, privateRoute }: AppDefects = {}) {
  const network = { strategy: 'network-first' };
  return {
    version: 1,
    routes: [
      { match: '/', cache: network },
      { match: '/style.css', cache: { strategy: 'stale-while-revalidate' } },
      { match: `${folder}/register.js`, cache: { strategy: 'stale-while-revalidate' } },
      { match: '/api/todos', methods: ['GET'], cache: network },
      { match: '/api/todos/:id', methods: ['GET'], cache: network },
      { match: '/api/todos', methods: ['POST'], resource: 'todos' },
      { match: '/api/todos/:id', methods: ['PUT', 'PATCH', 'DELETE'], resource: 'todos' },
      ...(redirectRoute ? [{ match: '/old', cache: network }] : []),
      ...(privateRoute ? [{ match: '/api/me', methods: ['GET'], cache: network }] : []),
    ],
    resources: { todos: { collection: '/api/todos', item: '/api/todos/:id', idField: 'id' } },
    changes: { stream: '/api/changes/stream', since: '/api/changes?since={cursor}' },
  };
}

export async function startApp(defects: AppDefects = {}): Promise<DoctorApp> {
  const { folder = '', etag = 'strong', stream = 'ok' } = defects;
  const scope = defects.dataScope === undefined ? '' : ` data-scope="${defects.dataScope}"`;
  const tag = defects.noTag ? '' : `<script src="${folder}/register.js" defer${scope}></script>\n`;
  const page = `<!doctype html>\n<title>Todos</title>\n<link rel="stylesheet" href="/style.css">\n${tag}<ul id="todos"></ul>\n`;
  const todo = { id: '1', title: 'Buy milk', done: false };
  const api: Record<string, string> = defects.noIdempotency ? {} : { 'idempotency-key-supported': '?1' };
  const requests: string[] = [];

  const send = (res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer = '') => {
    res.writeHead(status, { 'cache-control': 'no-cache', ...headers });
    res.end(body);
  };
  const server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pathname.startsWith('/api/todos') && req.method === 'OPTIONS') return send(res, 204, { allow: 'GET, POST', ...api });
    if (req.method !== 'GET') return send(res, 405, { allow: 'GET' });
    if (pathname === '/') return send(res, 200, { 'content-type': 'text/html; charset=utf-8' }, page);
    if (pathname === '/style.css') return send(res, 200, { 'content-type': 'text/css' }, 'body { margin: 0 }');
    if (pathname === `${folder}/register.js`) return send(res, 200, { 'content-type': JS }, await readFile(new URL('register.js', DIST)));
    if (pathname === `${folder}/sw.js`) {
      const allowed: Record<string, string> = defects.serviceWorkerAllowed === undefined ? {} : { 'service-worker-allowed': defects.serviceWorkerAllowed };
      return send(res, 200, { 'content-type': defects.workerType ?? JS, ...allowed }, await readFile(new URL('sw.js', DIST)));
    }
    if (pathname === `${folder}/offline.manifest.json` && !defects.noManifest)
      return send(res, 200, { 'content-type': JSON_TYPE }, defects.manifestText ?? JSON.stringify(appManifest(defects)));
    if (pathname === '/api/todos') return send(res, 200, { 'content-type': JSON_TYPE, ...api, ...(defects.varyStar ? { vary: '*' } : {}) }, JSON.stringify([todo]));
    if (pathname === '/api/todos/1') {
      const etagHeader: Record<string, string> = { strong: { etag: '"v1"' }, weak: { etag: 'W/"v1"' }, none: {} }[etag];
      return send(res, 200, { 'content-type': JSON_TYPE, ...api, ...etagHeader }, JSON.stringify(todo));
    }
    if (pathname === '/api/changes/stream') {
      const type = stream === 'wrong-type' ? JSON_TYPE : 'text/event-stream';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      // Headers now, as a server that flushes them does; "silent" then never writes, as behind a buffering proxy.
      res.flushHeaders();
      if (stream !== 'silent') res.write(': connected\n\n');
      return;
    }
    if (pathname === '/api/changes') return send(res, 200, { 'content-type': JSON_TYPE }, JSON.stringify(defects.wrongSince ? { events: [] } : { notices: [], cursor: '7' }));
    if (pathname === '/old' && defects.redirectRoute) return send(res, 302, { location: '/new' });
    if (pathname === '/api/me' && defects.privateRoute) return send(res, 200, { 'content-type': JSON_TYPE, 'cache-control': 'private, max-age=60' }, '{"name":"Ada"}');
    send(res, 404, { 'content-type': 'text/plain' }, `nothing at ${pathname}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Event streams stay open: drop them with the rest.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface JsonServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const JSON_SERVER = fileURLToPath(new URL('../../node_modules/.bin/json-server', import.meta.url));

/**
 * json-server 1.x serving `db.json` and `public/` of `dir`, as its README
 * says to run it. It takes no port 0 (it prints the port it was given), so
 * it gets a free one, and is asked until it answers.
 */
export { freePort };

export async function startJsonServer(dir: string): Promise<JsonServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [JSON_SERVER, 'db.json', '--port', String(port), '--host', '127.0.0.1', '--static', 'public'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`json-server exited (${child.exitCode}) before answering:\n${output}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return { url, child, stop };
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`json-server did not answer ${url} within ${STARTUP_MS} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
