/**
 * A small round-robin HTTP proxy for the todo cluster (scripts/start-cluster.mjs):
 * each request goes to the next instance in turn, so two requests of one
 * page can land on different instances, as behind a real load balancer.
 *
 * It passes everything through as it comes: request and response bodies are
 * piped chunk by chunk (an event stream reaches the browser event by event,
 * never held back), every end-to-end header goes both ways (Last-Event-ID,
 * Idempotency-Key, If-Match, ...), and hop-by-hop headers (RFC 9110 §7.6.1)
 * stay on their own hop. `X-Upstream` on each answer names the instance that
 * gave it. An instance that cannot be reached is skipped for
 * SKIP_DOWN_MS; a request that found it down gets 502.
 */
import { createServer, request as httpRequest } from 'node:http';

export const SKIP_DOWN_MS = 2000; // how long an unreachable instance gets no new requests
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/** The headers to send on: the end-to-end ones, and none named in `Connection`. */
function endToEnd(headers) {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)));
}

/**
 * `upstreams`: `[{ name, url }]`, each `url` an instance's origin
 * (`http://127.0.0.1:<port>`). Returns a node:http server; listen on it.
 */
export function createProxy(upstreams) {
  if (upstreams.length === 0) throw new Error('createProxy: give at least one upstream { name, url }');
  const downUntil = new Map();
  let turn = 0;

  function pick() {
    const now = Date.now();
    for (let tried = 0; tried < upstreams.length; tried++) {
      const upstream = upstreams[turn++ % upstreams.length];
      if ((downUntil.get(upstream.name) ?? 0) <= now) return upstream;
    }
    return upstreams[turn++ % upstreams.length];
  }

  const server = createServer((req, res) => {
    const upstream = pick();
    const target = new URL(req.url ?? '/', upstream.url);
    const forwarded = httpRequest(target, {
      method: req.method,
      headers: { ...endToEnd(req.headers), 'x-forwarded-for': req.socket.remoteAddress ?? '', 'x-forwarded-host': req.headers.host ?? '' },
    });
    forwarded.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, { ...endToEnd(answer.headers), 'x-upstream': upstream.name });
      // Headers now, not with the first body chunk: an event stream's client sees it open at once.
      res.flushHeaders();
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    forwarded.on('error', (error) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET') downUntil.set(upstream.name, Date.now() + SKIP_DOWN_MS);
      if (res.headersSent) return res.destroy();
      res.writeHead(502, { 'content-type': 'application/json; charset=utf-8', 'x-upstream': upstream.name });
      res.end(
        JSON.stringify({ error: `instance ${upstream.name} (${upstream.url}) did not answer (${error.code ?? error.message}); retry, the next request goes to another instance` }),
      );
    });
    // The browser went away (a closed EventSource): end the upstream request too, so the instance drops the stream.
    res.on('close', () => {
      if (!res.writableFinished) forwarded.destroy();
    });
    req.pipe(forwarded);
  });
  return server;
}
