/**
 * Holds what a handler writes on node's `res` (status, headers, body) until
 * the idempotency middleware has stored it, then sends it in one write. An
 * answer the client sees is therefore always one a retry can be given again:
 * a client that hears "201 Created" and retries never runs the handler twice.
 *
 * Works with what frameworks call underneath: node's own writeHead/write/end,
 * Express 5 (res.send, res.json, res.status().end() end in res.end), and
 * Fastify 5 (res.writeHead(status, headers) then res.end(payload), or a
 * stream piped into res.write).
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * The response headers a stored answer keeps, besides any listed in
 * `keepHeaders`: what a client needs to read the body and find what was
 * created (type, language, encoding, location), to make its next
 * conditional request (etag, last-modified), and to skip its own notice
 * (x-change-cursor). Per-response headers (date, content-length, connection,
 * CORS, caching) are set afresh on a replay. `set-cookie` is never kept, even
 * when listed: a stored session cookie replayed to whoever holds the key
 * would hand that session over.
 */
export const KEPT_HEADERS = ['content-type', 'content-language', 'content-encoding', 'content-location', 'location', 'etag', 'last-modified', 'x-change-cursor'] as const; // lower-case header names

export interface CapturedResponse {
  status: number;
  /** Every header set on `res`, as node keeps them (lower-case names). */
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** The headers of `captured` a stored answer keeps (see KEPT_HEADERS), values as strings. */
export function keptHeaders(headers: OutgoingHttpHeaders, keepHeaders: readonly string[] = []): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of [...KEPT_HEADERS, ...keepHeaders.map((n) => n.toLowerCase())]) {
    const value = headers[name];
    if (name === 'set-cookie' || value === undefined) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return kept;
}

type WriteCallback = (error?: Error | null) => void;
type Held = Pick<ServerResponse, 'writeHead' | 'write' | 'end' | 'flushHeaders'>;
const HELD = ['writeHead', 'write', 'end', 'flushHeaders'] as const;

export interface ResponseCapture {
  /** True once the handler has ended its response (it is held or sent). */
  readonly ended: boolean;
  /** Stops capturing without sending anything (the handler failed before it answered). */
  restore(): void;
}

/**
 * Captures `res` until the handler ends it; then awaits `onEnd(captured)`
 * (which stores it) and sends it, whether `onEnd` fulfilled or rejected.
 */
export function captureResponse(res: ServerResponse, onEnd: (captured: CapturedResponse) => Promise<void>): ResponseCapture {
  const below = Object.fromEntries(HELD.map((name) => [name, res[name]])) as unknown as Held;
  const own = new Map(HELD.map((name) => [name, Object.getOwnPropertyDescriptor(res, name)]));
  const chunks: Buffer[] = [];
  const endCallbacks: WriteCallback[] = [];
  let holding = true;
  let ended = false;

  const append = (chunk: unknown, encoding: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    else throw new TypeError(`res.write/end got a ${typeof chunk}; pass a string, Buffer or Uint8Array`);
  };

  const wrappers: Held = {
    writeHead(this: ServerResponse, status: number, ...rest: unknown[]) {
      if (!holding) return (below.writeHead as (...a: unknown[]) => ServerResponse).call(res, status, ...rest);
      res.statusCode = status;
      let headers = rest[0];
      if (typeof headers === 'string') {
        res.statusMessage = headers;
        headers = rest[1];
      }
      if (Array.isArray(headers)) {
        // node accepts [[name, value], ...] and the flat raw form [name, value, name, value, ...].
        const pairs = Array.isArray(headers[0]) ? (headers as [string, string][]) : pairsOf(headers as string[]);
        for (const [name, value] of pairs) appendHeader(res, name, value);
      } else if (headers && typeof headers === 'object') {
        for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value as string);
      }
      return res;
    },
    write(this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) {
      if (!holding) return (below.write as (...a: unknown[]) => boolean).call(res, chunk, encoding, callback);
      // Written after end while held: dropped, as node drops it (with an error) once a response has ended.
      if (!ended) append(chunk, encoding);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as WriteCallback);
      return true;
    },
    end(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
      if (!holding) return (below.end as (...a: unknown[]) => ServerResponse).call(res, chunk, encoding, callback);
      if (ended) return res;
      ended = true;
      append(chunk, encoding);
      const done = [chunk, encoding, callback].find((arg) => typeof arg === 'function');
      if (done) endCallbacks.push(done as WriteCallback);
      const captured: CapturedResponse = { status: res.statusCode, headers: res.getHeaders(), body: Buffer.concat(chunks) };
      const send = () => {
        unwrap();
        (below.end as (...a: unknown[]) => ServerResponse).call(res, captured.body, () => {
          for (const cb of endCallbacks) cb();
        });
      };
      onEnd(captured).then(send, send);
      return res;
    },
    flushHeaders(this: ServerResponse) {
      if (!holding) below.flushHeaders.call(res);
    },
  } as Held;

  function unwrap() {
    holding = false;
    for (const name of HELD) {
      // Leave a wrapper someone placed over ours in place: it calls ours, which now passes through.
      if (res[name] !== wrappers[name]) continue;
      const descriptor = own.get(name);
      // Not `delete`: deleting properties out of order sends `res` into V8's slow dictionary mode, which node's own writes then pay for.
      if (descriptor) Object.defineProperty(res, name, descriptor);
      else (res as unknown as Record<string, unknown>)[name] = below[name];
    }
  }

  for (const name of HELD) (res as unknown as Record<string, unknown>)[name] = wrappers[name];
  return {
    get ended() {
      return ended;
    },
    restore() {
      if (!ended) unwrap();
    },
  };
}

function pairsOf(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}

function appendHeader(res: ServerResponse, name: string, value: string) {
  const current = res.getHeader(name);
  if (current === undefined) res.setHeader(name, value);
  else res.setHeader(name, [...(Array.isArray(current) ? current : [String(current)]), value]);
}
