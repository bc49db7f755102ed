/**
 * One small write API on each server kind the middleware promises to work
 * with — Express 5, Fastify 5 (raw request/reply from a hook), Hono 4 on
 * @hono/node-server (`.fetch`), plain node:http — each on 127.0.0.1:0. Every
 * request that reaches the app's handler is recorded in `seen`, so a test
 * can count how often the handler ran and see the body it was given.
 */
import { createServer, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import type { IdempotencyMiddleware } from '../../../server/idempotency.js';

export const FRAMEWORKS = ['express', 'fastify', 'hono', 'node'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** What the handler saw. */
export interface Seen {
  method: string;
  url: string;
  user: string | undefined;
  /** req.body (Express, node), request.body (Fastify), the parsed JSON (Hono). */
  body: unknown;
  /** req.rawBody as text, where the server kind has one. */
  rawBody: string | undefined;
}

export interface AppReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}
export type Respond = (seen: Seen) => AppReply | Promise<AppReply>;

/** What idempotency() and conditional() both return, whatever request type their callbacks take. */
export type Guard = IdempotencyMiddleware<IncomingMessage>;

export interface App {
  readonly url: string;
  readonly seen: Seen[];
  close(): Promise<void>;
}

export interface AppOptions {
  /** Express only: where express.json() sits relative to the guard. @default 'after' */
  json?: 'before' | 'after' | 'none';
}

/** The scope tests use: the `x-user` header, from node's request or a Fetch Request. */
export const userOf = (req: IncomingMessage | Request): string | undefined =>
  (typeof (req.headers as Headers).get === 'function' ? (req.headers as Headers).get('x-user') : (req as IncomingMessage).headers['x-user']) as string | undefined;

const rawText = (raw: unknown) => (raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : undefined);

export async function startApp(framework: Framework, guard: Guard, respond: Respond, options: AppOptions = {}): Promise<App> {
  const seen: Seen[] = [];
  const record = (s: Seen) => (seen.push(s), respond(s));
  const starters: Record<Framework, () => Promise<{ port: number; close(): Promise<void> }>> = {
    async express() {
      const app = express();
      const json = options.json ?? 'after';
      if (json === 'before') app.use(express.json());
      app.use(guard);
      if (json === 'after') app.use(express.json());
      app.use(async (req, res) => {
        const r = req as typeof req & { rawBody?: unknown };
        const out = await record({ method: req.method, url: req.originalUrl, user: userOf(req), body: req.body, rawBody: rawText(r.rawBody) });
        res
          .status(out.status)
          .set(out.headers ?? {})
          .json(out.body ?? null);
      });
      return listen(createServer(app));
    },
    async fastify() {
      const app = Fastify();
      // The snippet for the README: Fastify has parsed the body by preHandler, so it is handed over as req.body;
      // when the guard answers itself (replay, 409, 422, …) the reply is hijacked so Fastify does not send too.
      app.addHook('preHandler', (request, reply, done) => {
        (request.raw as IncomingMessage & { body?: unknown }).body = request.body;
        guard(request.raw, reply.raw, done).then((passed) => passed || reply.hijack());
      });
      app.all('/*', async (request, reply) => {
        const out = await record({
          method: request.method,
          url: request.url,
          user: userOf(request.raw),
          body: request.body,
          rawBody: rawText((request.raw as { rawBody?: unknown }).rawBody),
        });
        return reply
          .code(out.status)
          .headers(out.headers ?? {})
          .send(out.body ?? null);
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
    async hono() {
      const app = new Hono();
      app.all('*', async (c) => {
        const text = await c.req.text();
        const url = new URL(c.req.url);
        let body: unknown;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          body = text;
        }
        const out = await record({ method: c.req.method, url: url.pathname + url.search, user: userOf(c.req.raw), body, rawBody: text });
        return new Response(JSON.stringify(out.body ?? null), { status: out.status, headers: { 'content-type': 'application/json', ...out.headers } });
      });
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: guard.fetch(app.fetch) as never, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
      });
      return listening(server);
    },
    async node() {
      const failed = (res: ServerResponse) => res.writeHead(500, { 'content-type': 'text/plain' }).end('the app failed');
      // The snippet for the README: `next` gets an error when the guard could not decide (scope() threw): answer it, never run the handler.
      const server = createServer((req, res) => {
        guard(req, res, (error) => (error ? failed(res) : handle(req, res)));
      });
      const handle = async (req: IncomingMessage, res: ServerResponse) => {
        const r = req as IncomingMessage & { body?: unknown; rawBody?: unknown };
        // Without a key the guard leaves the stream alone: the app reads it itself.
        if (r.rawBody === undefined) {
          const chunks: Buffer[] = [];
          for await (const chunk of req) chunks.push(chunk as Buffer);
          const raw = Buffer.concat(chunks);
          r.rawBody = raw;
          if (raw.byteLength > 0 && /json/.test(req.headers['content-type'] ?? '')) r.body = JSON.parse(raw.toString());
        }
        const out = await record({ method: req.method!, url: req.url!, user: userOf(req), body: r.body, rawBody: rawText(r.rawBody) });
        res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
        res.end(JSON.stringify(out.body ?? null));
      };
      return listen(server);
    },
  };
  const { port, close } = await starters[framework]();
  return { url: `http://127.0.0.1:${port}`, seen, close };
}

/** Listens on 127.0.0.1 at a free port; `close` also ends the open connections. */
export async function listen(server: Server) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return listening(server);
}

export function listening(server: Server) {
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A request with exactly these header lines (fetch would merge two lines of one name). */
export function rawRequest(url: string, method: string, headers: [string, string][], body = ''): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    // With raw header lines node adds none of its own, Host included.
    const flat = ['host', new URL(url).host, ...headers.flat(), 'content-length', String(Buffer.byteLength(body))];
    const req = httpRequest(url, { method, headers: flat }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A promise and the function that settles it: holds a handler until a test lets it go. */
export function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
