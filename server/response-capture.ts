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
type Method = (...args: unknown[]) => unknown;
const HELD = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
type HeldName = (typeof HELD)[number];

export interface ResponseCapture {
  /** True once the handler has ended its response (it is held or sent). */
  readonly ended: boolean;
  /** Stops capturing without sending anything (the handler failed before it answered). */
  restore(): void;
}

/** One response's capture: what was written, and the methods ours stand in for. */
interface Capture extends ResponseCapture {
  res: ServerResponse;
  onEnd: (captured: CapturedResponse) => Promise<void>;
  below: Record<HeldName, Method>;
  /** The response's own methods before ours (a wrapper another middleware put there), to put back. */
  own: Partial<Record<HeldName, unknown>>;
  chunks: Buffer[];
  endCallbacks: WriteCallback[];
  holding: boolean;
  ended: boolean;
}

/**
 * The held methods are these shared functions, not closures made per
 * response: each keyed write would otherwise allocate a set of them, and
 * the capture runs on every one. `this` is the response; its capture is
 * found under a symbol.
 */
const CAPTURE = Symbol('offline-outbox capture');
const captureOf = (res: ServerResponse): Capture => (res as unknown as { [CAPTURE]: Capture })[CAPTURE];

const append = (capture: Capture, chunk: unknown, encoding: unknown) => {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
  if (typeof chunk === 'string') capture.chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
  else if (chunk instanceof Uint8Array) capture.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  else throw new TypeError(`res.write/end got a ${typeof chunk}; pass a string, Buffer or Uint8Array`);
};

const held: Record<HeldName, Method> = {
  writeHead(this: ServerResponse, status: unknown, ...rest: unknown[]) {
    const capture = captureOf(this);
    if (!capture.holding) return capture.below.writeHead.call(this, status, ...rest);
    this.statusCode = status as number;
    let headers = rest[0];
    if (typeof headers === 'string') {
      this.statusMessage = headers;
      headers = rest[1];
    }
    if (Array.isArray(headers)) {
      // node accepts [[name, value], ...] and the flat raw form [name, value, name, value, ...].
      const pairs = Array.isArray(headers[0]) ? (headers as [string, string][]) : pairsOf(headers as string[]);
      for (const [name, value] of pairs) appendHeader(this, name, value);
    } else if (headers && typeof headers === 'object') {
      for (const name in headers) {
        const value = (headers as Record<string, unknown>)[name];
        if (value !== undefined) this.setHeader(name, value as string);
      }
    }
    return this;
  },
  write(this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) {
    const capture = captureOf(this);
    if (!capture.holding) return capture.below.write.call(this, chunk, encoding, callback);
    // Written after end while held: dropped, as node drops it (with an error) once a response has ended.
    if (!capture.ended) append(capture, chunk, encoding);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done as WriteCallback);
    return true;
  },
  end(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
    const capture = captureOf(this);
    if (!capture.holding) return capture.below.end.call(this, chunk, encoding, callback);
    if (capture.ended) return this;
    capture.ended = true;
    append(capture, chunk, encoding);
    const done = typeof chunk === 'function' ? chunk : typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') capture.endCallbacks.push(done as WriteCallback);
    const { chunks } = capture;
    const captured: CapturedResponse = { status: this.statusCode, headers: this.getHeaders(), body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
    const send = () => {
      unwrap(capture);
      capture.below.end.call(this, captured.body, capture.endCallbacks.length ? () => callAll(capture.endCallbacks) : undefined);
    };
    capture.onEnd(captured).then(send, send);
    return this;
  },
  flushHeaders(this: ServerResponse) {
    const capture = captureOf(this);
    if (!capture.holding) capture.below.flushHeaders.call(this);
  },
};

const callAll = (callbacks: WriteCallback[]) => {
  for (const cb of callbacks) cb();
};

function unwrap(capture: Capture) {
  capture.holding = false;
  const target = capture.res as unknown as Record<string, unknown>;
  for (const name of HELD) {
    // Leave a wrapper someone placed over ours in place: it calls ours, which now passes through.
    if (target[name] !== held[name]) continue;
    // Put back, never `delete`: deleting properties out of order sends `res` into V8's slow dictionary mode, which node's own writes then pay for.
    target[name] = name in capture.own ? capture.own[name] : capture.below[name];
  }
}

/**
 * Captures `res` until the handler ends it; then awaits `onEnd(captured)`
 * (which stores it) and sends it, whether `onEnd` fulfilled or rejected.
 */
export function captureResponse(res: ServerResponse, onEnd: (captured: CapturedResponse) => Promise<void>): ResponseCapture {
  const target = res as unknown as Record<string | symbol, unknown>;
  const own: Partial<Record<HeldName, unknown>> = {};
  for (const name of HELD) if (Object.hasOwn(res, name)) own[name] = target[name];
  const capture: Capture = {
    res,
    onEnd,
    below: { writeHead: target.writeHead as Method, write: target.write as Method, end: target.end as Method, flushHeaders: target.flushHeaders as Method },
    own,
    chunks: [],
    endCallbacks: [],
    holding: true,
    ended: false,
    restore() {
      if (!capture.ended) unwrap(capture);
    },
  };
  target[CAPTURE] = capture;
  for (const name of HELD) target[name] = held[name];
  return capture;
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
