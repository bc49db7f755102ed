/**
 * The README's "Your server" snippets, run: one small todo API per server
 * kind (Express 5, Fastify 5, Hono on @hono/node-server, node:http), wired
 * with the same calls in the same order as the README shows them, on
 * 127.0.0.1:0. Where the README shows nothing for a server kind
 * (conditional() on Fastify, Hono and node:http), the wiring follows the
 * README's own pattern for that kind and is marked "not in the README".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { changeFeed, conditional, idempotency, type OutboxStore, strongEtag } from '../../../server/index.js';
import { listen, listening } from './frameworks.js';

export const README_FRAMEWORKS = ['express', 'fastify', 'hono', 'node:http'] as const;
export type ReadmeFramework = (typeof README_FRAMEWORKS)[number];

export interface Todo {
  id: string;
  title: string;
  done: boolean;
  version: number;
}

export interface ReadmeApp {
  readonly url: string;
  /** How often the write handlers ran. */
  readonly ran: { create: number; update: number };
  /** Closes the feed (ending its streams), then the server; the store stays the caller's. */
  close(): Promise<void>;
}

/** The app's own data: a map of todos. */
function todoList() {
  const todos = new Map<string, Todo>();
  const ran = { create: 0, update: 0 };
  let last = 0;
  return {
    ran,
    get: (id: string | undefined) => (id === undefined ? undefined : todos.get(id)),
    // Unknown: Express 5 types a route param as string | string[].
    etagOfTodo: (id: unknown) => {
      const todo = typeof id === 'string' ? todos.get(id) : undefined;
      return todo && strongEtag(todo);
    },
    create(body: unknown): Todo {
      ran.create++;
      const todo = { id: String(++last), title: String((body as { title?: unknown }).title), done: false, version: 1 };
      todos.set(todo.id, todo);
      return todo;
    },
    update(id: string | undefined, body: unknown): Todo | undefined {
      ran.update++;
      const todo = id === undefined ? undefined : todos.get(id);
      if (!todo) return undefined;
      const next = { ...todo, ...(body as Partial<Todo>), id: todo.id, version: todo.version + 1 };
      todos.set(id!, next);
      return next;
    },
  };
}

/** `/api/todos/<id>` → id, for the server kinds whose raw request has no route params. */
const todoId = (url: string | undefined) => /^\/api\/todos\/([^/?]+)/.exec(new URL(url ?? '/', 'http://localhost').pathname)?.[1];

type AuthedRequest = IncomingMessage & { user?: { id: string } };

export async function startReadmeApp(framework: ReadmeFramework, store: OutboxStore): Promise<ReadmeApp> {
  const todos = todoList();
  // README: the three lines every server kind shares.
  const feed = changeFeed({ store });
  const guard = idempotency<AuthedRequest>({ store, scope: (req) => req.user?.id });

  const servers: Record<ReadmeFramework, () => Promise<{ port: number; close(): Promise<void> }>> = {
    async express() {
      const app = express();
      app.use(express.json());
      // README, Express 5:
      app.use(guard);
      app.get('/api/changes/stream', (req, res) => feed.sse(req, res));
      app.get('/api/changes', (req, res) => feed.since(req, res));
      app.use('/api/todos/:id', conditional<express.Request>({ etag: (req) => todos.etagOfTodo(req.params.id) }));

      app.post('/api/todos', async (req, res) => {
        const todo = todos.create(req.body);
        res.setHeader('X-Change-Cursor', await feed.publish({ resource: 'todos', id: todo.id, type: 'created', version: todo.version }));
        res.setHeader('ETag', strongEtag(todo));
        res.status(201).json(todo);
      });
      app.get('/api/todos/:id', (req, res) => {
        const todo = todos.get(req.params.id);
        if (!todo) res.status(404).end();
        else res.json(todo);
      });
      app.patch('/api/todos/:id', async (req, res) => {
        const todo = todos.update(req.params.id, req.body);
        if (!todo) return void res.status(404).end();
        res.setHeader('X-Change-Cursor', await feed.publish({ resource: 'todos', id: todo.id, type: 'updated', version: todo.version }));
        res.setHeader('ETag', strongEtag(todo));
        res.json(todo);
      });
      return listen(createServer(app));
    },

    async fastify() {
      const app = Fastify();
      // README, Fastify 5:
      app.addHook('preHandler', (request, reply, done) => {
        (request.raw as IncomingMessage & { body?: unknown }).body = request.body;
        guard(request.raw, reply.raw, done).then((passed) => passed || reply.hijack());
      });
      app.get('/api/changes/stream', (request, reply) => {
        reply.hijack();
        feed.sse(request.raw, reply.raw);
      });
      app.get('/api/changes', (request, reply) => {
        reply.hijack();
        feed.since(request.raw, reply.raw);
      });

      // Not in the README: conditional() as a route's preHandler, the guard's pattern.
      const ifCurrent = conditional({ etag: (req) => todos.etagOfTodo(todoId(req.url)) });
      const preHandler = (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }, done: (error?: Error) => void) => {
        ifCurrent(request.raw, reply.raw, done).then((passed) => passed || reply.hijack());
      };
      app.post('/api/todos', async (request, reply) => {
        const todo = todos.create(request.body);
        reply.header('X-Change-Cursor', await feed.publish({ resource: 'todos', id: todo.id, type: 'created', version: todo.version }));
        reply.header('ETag', strongEtag(todo));
        return reply.code(201).send(todo);
      });
      app.get<{ Params: { id: string } }>('/api/todos/:id', { preHandler }, async (request, reply) => {
        const todo = todos.get(request.params.id);
        return todo ? reply.send(todo) : reply.code(404).send();
      });
      app.patch<{ Params: { id: string } }>('/api/todos/:id', { preHandler }, async (request, reply) => {
        const todo = todos.update(request.params.id, request.body);
        if (!todo) return reply.code(404).send();
        reply.header('X-Change-Cursor', await feed.publish({ resource: 'todos', id: todo.id, type: 'updated', version: todo.version }));
        reply.header('ETag', strongEtag(todo));
        return reply.send(todo);
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },

    async hono() {
      // README, Hono: the guard is made with idempotency<Request>(…), so scope gets the Fetch Request.
      const guard = idempotency<Request>({ store, scope: (request) => request.headers.get('x-user') });
      const app = new Hono();
      app.get('/api/changes/stream', (c) => feed.fetchSse(c.req.raw));
      app.get('/api/changes', (c) => feed.fetchSince(c.req.raw));

      // Not in the README: conditional<Request>(…).fetch around the routes of one todo.
      const ifCurrent = conditional<Request>({ etag: (request) => todos.etagOfTodo(todoId(request.url)) });
      app.use('/api/todos/:id', (c, next) => ifCurrent.fetch(async () => (await next(), c.res))(c.req.raw));

      app.post('/api/todos', async (c) => {
        const todo = todos.create(await c.req.json());
        c.header('X-Change-Cursor', await feed.publish({ resource: 'todos', id: todo.id, type: 'created', version: todo.version }));
        c.header('ETag', strongEtag(todo));
        return c.json(todo, 201);
      });
      app.get('/api/todos/:id', (c) => {
        const todo = todos.get(c.req.param('id'));
        return todo ? c.json(todo) : c.body(null, 404);
      });
      app.patch('/api/todos/:id', async (c) => {
        const todo = todos.update(c.req.param('id'), await c.req.json());
        if (!todo) return c.body(null, 404);
        c.header('X-Change-Cursor', await feed.publish({ resource: 'todos', id: todo.id, type: 'updated', version: todo.version }));
        c.header('ETag', strongEtag(todo));
        return c.json(todo);
      });
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: guard.fetch(app.fetch), hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
      });
      return listening(server);
    },

    async 'node:http'() {
      const fail = (res: ServerResponse, error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`the app failed: ${error.message}`);
      const send = (res: ServerResponse, status: number, value?: unknown) =>
        value === undefined ? res.writeHead(status).end() : res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      // Not in the README: conditional() before the routes of one todo, called like the guard.
      const ifCurrent = conditional({ etag: (req) => todos.etagOfTodo(todoId(req.url)) });

      const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        if (req.method === 'GET' && path === '/api/changes/stream') return feed.sse(req, res);
        if (req.method === 'GET' && path === '/api/changes') return feed.since(req, res);
        if (req.method === 'POST' && path === '/api/todos') {
          const todo = todos.create(await bodyOf(req));
          res.setHeader('X-Change-Cursor', await feed.publish({ resource: 'todos', id: todo.id, type: 'created', version: todo.version }));
          res.setHeader('ETag', strongEtag(todo));
          return void send(res, 201, todo);
        }
        const id = todoId(req.url);
        if (id === undefined) return void send(res, 404);
        await ifCurrent(req, res, async () => {
          if (req.method === 'GET') return void send(res, todos.get(id) ? 200 : 404, todos.get(id));
          if (req.method !== 'PATCH') return void send(res, 405);
          const todo = todos.update(id, await bodyOf(req));
          if (!todo) return void send(res, 404);
          res.setHeader('X-Change-Cursor', await feed.publish({ resource: 'todos', id: todo.id, type: 'updated', version: todo.version }));
          res.setHeader('ETag', strongEtag(todo));
          send(res, 200, todo);
        });
      };
      // README, node:http:
      return listen(createServer((req, res) => guard(req, res, (error) => (error ? fail(res, error) : route(req, res)))));
    },
  };

  const { port, close } = await servers[framework]();
  return {
    url: `http://127.0.0.1:${port}`,
    ran: todos.ran,
    async close() {
      feed.close();
      await close();
    },
  };
}

/** The JSON body: the guard's `req.body` for a keyed write, else read here (the guard leaves an unkeyed body unread). */
async function bodyOf(req: IncomingMessage & { body?: unknown }): Promise<unknown> {
  if (req.body !== undefined) return req.body;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}
