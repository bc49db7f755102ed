/**
 * A real HTTP server on 127.0.0.1 for end-to-end tests. It serves the built
 * `dist/` files and whatever a test declares, records every request it gets,
 * and can be unplugged (stop accepting, drop open sockets) and plugged back
 * on the same port: offline made real, the same way in every engine.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Drop the connection instead of answering (a request lost on the wire). */
  drop?: boolean;
  /**
   * Keep the response open (a Server-Sent Events stream): `open` gets the
   * function that writes to it and returns what to do once it closes.
   */
  stream?: (write: (chunk: string) => void) => () => void;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface TestServer {
  readonly origin: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Declares (or replaces) the answer to `METHOD /path` (query ignored). */
  on(method: string, path: string, handler: Handler | Reply): void;
  /** Answers every request (any method) whose path starts with `prefix` and that no `on` declares. */
  onPrefix(prefix: string, handler: Handler): void;
  /** Requests received for a path (query ignored), optionally of one method. */
  received(path: string, method?: string): RecordedRequest[];
  unplug(): Promise<void>;
  plug(): Promise<void>;
  close(): Promise<void>;
}

const DIST = new URL('../../dist/', import.meta.url);
const SCRIPT_TYPE = 'text/javascript; charset=utf-8';

export async function startTestServer(): Promise<TestServer> {
  const handlers = new Map<string, Handler>();
  const prefixes: [string, Handler][] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    const recorded: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers, body: Buffer.concat(chunks).toString('utf8') };
    requests.push(recorded);
    const path = recorded.url.split('?')[0]!;
    try {
      const handler = handlers.get(`${recorded.method} ${path}`) ?? prefixes.find(([prefix]) => path.startsWith(prefix))?.[1];
      const reply: Reply = handler ? await handler(recorded) : await serveDist(recorded.method, path);
      if (reply.drop) return void req.socket.destroy();
      // Revalidate by default, so a reload never comes from the HTTP cache and
      // only the worker can answer while unplugged.
      res.writeHead(reply.status ?? 200, { 'cache-control': 'no-cache', ...reply.headers });
      if (reply.stream) {
        res.flushHeaders();
        const closed = reply.stream((chunk) => res.write(chunk));
        res.on('close', closed);
        return;
      }
      res.end(reply.body ?? '');
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const port = await listen(0);
  let plugged = true;

  const unplug = async () => {
    if (!plugged) return;
    plugged = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    on(method, path, handler) {
      handlers.set(`${method} ${path}`, typeof handler === 'function' ? handler : () => handler);
    },
    onPrefix(prefix, handler) {
      prefixes.push([prefix, handler]);
    },
    received: (path, method) => requests.filter((r) => r.url.split('?')[0] === path && (!method || r.method === method)),
    unplug,
    async plug() {
      if (plugged) return;
      await listen(port);
      plugged = true;
    },
    close: unplug,
  };
}

async function serveDist(method: string, path: string): Promise<Reply> {
  const name = /^\/(sw\.js|register\.js|outbox-status\.js)$/.exec(path)?.[1];
  if (method !== 'GET' || !name) return { status: 404, headers: { 'content-type': 'text/plain' }, body: `no handler for ${method} ${path}` };
  return { headers: { 'content-type': SCRIPT_TYPE }, body: await readFile(new URL(name, DIST)) };
}
