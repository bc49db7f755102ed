/**
 * A change feed's two routes on a real server of each kind an app may run:
 * `GET /changes/stream` (Server-Sent Events) and `GET /changes?since=`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import type { ChangeFeed } from '../../server/change-feed.js';

export const FRAMEWORKS = ['node:http', 'express', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** Serves `feed` on 127.0.0.1 (a free port); `close` drops open streams too. */
export async function serveFeed(framework: Framework, feed: ChangeFeed): Promise<{ url: string; close(): Promise<void> }> {
  let server: Server;
  if (framework === 'node:http') {
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/changes/stream') void feed.sse(req, res);
      else if (path === '/changes') void feed.since(req, res);
      else res.writeHead(404).end();
    }).listen(0, '127.0.0.1');
  } else if (framework === 'express') {
    const app = express();
    app.get('/changes/stream', (req, res) => feed.sse(req, res));
    app.get('/changes', (req, res) => feed.since(req, res));
    server = app.listen(0, '127.0.0.1');
  } else {
    const app = new Hono();
    app.get('/changes/stream', (c) => feed.fetchSse(c.req.raw));
    app.get('/changes', (c) => feed.fetchSince(c.req.raw));
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  }
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
