/**
 * `idempotency(options)`: Idempotency-Key for writes, per
 * draft-ietf-httpapi-idempotency-key-header, as a Connect-style middleware
 * `(req, res, next)` (node:http, Express, Fastify's raw request/reply) with
 * `.fetch(handler)` for Fetch-API servers (Hono).
 *
 * A write with a key is claimed in the store under a lease; the handler runs
 * once; its answer (status, the headers response-capture.ts keeps, body) is
 * stored for `ttlSeconds` *before* the client hears it. A retry gets the
 * stored answer with `Idempotent-Replayed: true`; the same key while the
 * first still runs → 409 + Retry-After; with another request → 422; a 5xx,
 * a "not processed" status (idempotency-lease.ts) or a handler that throws
 * frees the key. Every answer through the middleware carries
 * `Idempotency-Key-Supported: ?1`.
 *
 * A client that leaves before its answer does not stop the handler: its
 * answer is still stored (a retry meanwhile gets 409, then that answer), but
 * renewals stop, so a handler that never answers frees the key within one
 * lease, as a crashed one does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Admission, admit, type Incoming, type LeaseSettings } from './idempotency-lease.js';
import { type Answer, problem, sendAnswer, toResponse } from './problem.js';
import { type NodeBodyRequest, readFetchBody, readNodeBody } from './request-body.js';
import { captureResponse } from './response-capture.js';
import type { OutboxStore } from './store.js';
import { SUPPORTED, SUPPORTED_HEADER } from '../common/idempotency-supported.js';

export interface IdempotencyOptions<Req = IncomingMessage> {
  /** Where keys and answers are kept: `memoryStore()` or `redisStore(client)`. */
  store: Pick<OutboxStore, 'idempotency'>;
  /** Answer a write without a key with 400. @default false */
  required?: boolean;
  /** Accept only the draft's quoted key, not a bare token. @default false */
  strict?: boolean;
  /** The methods keys apply to; others pass through untouched. @default ['POST', 'PUT', 'PATCH', 'DELETE'] */
  methods?: readonly string[];
  /** How long an answer is kept for retries. @default 86400 (24 hours) */
  ttlSeconds?: number;
  /** How long a claim outlives a crashed request; renewed every third of it while the handler runs. @default 30 */
  leaseSeconds?: number;
  /**
   * Whose key it is (e.g. the user id), so two users never share a key or see
   * each other's answers. Gets node's request, or under `.fetch` the Fetch
   * Request (create the middleware with `idempotency<Request>(…)` there).
   * @default () => undefined (one scope for everyone)
   */
  scope?: (req: Req) => string | number | undefined | null | Promise<string | number | undefined | null>;
  /** The largest body read for a keyed write; past it, 413 and the connection is closed. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** Response headers to keep with an answer besides response-capture.ts's KEPT_HEADERS (never `set-cookie`). @default [] */
  keepHeaders?: readonly string[];
}

/** Connect's `next`: called once, with the error when the middleware could not decide (the app's scope() threw). Fastify's `done` fits. */
export type Next = (error?: Error) => unknown;

export type FetchHandler<Rest extends unknown[]> = (request: Request, ...rest: Rest) => Response | Promise<Response>;

export interface IdempotencyMiddleware<Req = IncomingMessage> {
  /**
   * Resolves once it has handed the request to `next` (true) or answered it
   * itself (false) — not when the handler is done. Fastify needs to know which:
   * `guard(request.raw, reply.raw, done).then((passed) => passed || reply.hijack())`.
   */
  (req: Req, res: ServerResponse, next: Next): Promise<boolean>;
  /** The same for a Fetch-API handler: `serve({ fetch: guard.fetch(app.fetch) })`. */
  fetch<Rest extends unknown[]>(handler: FetchHandler<Rest>): (request: Request, ...rest: Rest) => Promise<Response>;
}

export function idempotency<Req = IncomingMessage>(options: IdempotencyOptions<Req>): IdempotencyMiddleware<Req> {
  const methods = new Set((options.methods ?? ['POST', 'PUT', 'PATCH', 'DELETE']).map((m) => m.toUpperCase()));
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const scope = options.scope ?? (() => undefined);
  const settings: LeaseSettings = {
    store: options.store.idempotency,
    ttlMs: (options.ttlSeconds ?? 86_400) * 1000,
    leaseMs: (options.leaseSeconds ?? 30) * 1000,
    keepHeaders: options.keepHeaders ?? [],
    required: options.required ?? false,
    strict: options.strict ?? false,
  };
  if (!(settings.ttlMs > 0 && settings.leaseMs > 0 && maxBodyBytes >= 0)) {
    throw Object.assign(new RangeError('idempotency(): ttlSeconds and leaseSeconds must be positive numbers, maxBodyBytes zero or more.'), { code: 'invalid-options' });
  }

  const middleware = async (req: Req, res: ServerResponse, next: Next): Promise<boolean> => {
    res.setHeader(SUPPORTED_HEADER, SUPPORTED);
    const nodeReq = req as unknown as NodeBodyRequest & { originalUrl?: string };
    if (!methods.has(nodeReq.method ?? '')) return pass(next);
    const incoming: Incoming = {
      method: nodeReq.method!,
      target: nodeReq.originalUrl ?? nodeReq.url ?? '/',
      contentType: nodeReq.headers['content-type'],
      keyField: keyLines(nodeReq),
      scope: () => scope(req),
      body: () => readNodeBody(nodeReq, maxBodyBytes),
    };
    let admission: Admission;
    try {
      admission = await admit(incoming, settings);
    } catch (error) {
      return pass(next, error);
    }
    if (admission.kind === 'pass') return pass(next);
    if (admission.kind === 'gone') return false;
    if (admission.kind === 'answer') {
      sendAnswer(res, admission.answer);
      return false;
    }
    const { lease } = admission;
    const capture = captureResponse(res, (captured) => lease.settle(captured.status, captured.headers, captured.body));
    res.once('close', () => {
      if (!capture.ended) lease.abandon();
    });
    const failed = (error: unknown) => {
      if (capture.ended) return;
      capture.restore();
      console.error(`offline-outbox/server: the handler for Idempotency-Key ${JSON.stringify(lease.key)} failed before answering; the key is freed.`, error);
      void lease.fail().then(() => sendAnswer(res, handlerFailed()));
    };
    try {
      const result = next();
      if (isThenable(result)) result.then(undefined, failed);
    } catch (error) {
      failed(error);
    }
    return true;
  };

  const fetch = <Rest extends unknown[]>(handler: FetchHandler<Rest>) =>
    async function idempotentFetch(request: Request, ...rest: Rest): Promise<Response> {
      if (!methods.has(request.method)) return supported(await handler(request, ...rest));
      const url = new URL(request.url);
      let bytes: Uint8Array = new Uint8Array(0);
      const incoming: Incoming = {
        method: request.method,
        target: url.pathname + url.search,
        contentType: request.headers.get('content-type'),
        keyField: request.headers.get('idempotency-key'),
        scope: () => scope(request as unknown as Req),
        body: async () => {
          const read = await readFetchBody(request, maxBodyBytes);
          if (!read.ok) return { ok: false, answer: read.answer, close: true };
          bytes = read.bytes;
          return { ok: true, source: { bytes } };
        },
      };
      const admission = await admit(incoming, settings);
      if (admission.kind === 'pass') return supported(await handler(request, ...rest));
      if (admission.kind !== 'run') return toResponse(admission.kind === 'answer' ? admission.answer : handlerFailed(), { [SUPPORTED_HEADER]: SUPPORTED });
      const { lease } = admission;
      request.signal.addEventListener('abort', () => lease.abandon(), { once: true });
      // The body was read to fingerprint it; the handler gets the same bytes in a request otherwise the same.
      const forwarded = new Request(request, { body: bytes.byteLength > 0 ? (bytes as Uint8Array<ArrayBuffer>) : null });
      let response: Response;
      let body: Uint8Array;
      try {
        response = await handler(forwarded, ...rest);
        body = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        await lease.fail();
        throw error;
      }
      await lease.settle(response.status, Object.fromEntries(response.headers), body);
      const answered = new Response(hasNoBody(response.status) ? null : (body as Uint8Array<ArrayBuffer>), {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      answered.headers.set(SUPPORTED_HEADER, SUPPORTED);
      return answered;
    };

  return Object.assign(middleware, { fetch });
}

/**
 * The Idempotency-Key field lines. Two lines are two keys, which the joined
 * `req.headers` value could not tell from one key holding ", ". Read from
 * `rawHeaders`, not `headersDistinct`: that getter builds every header's
 * array on each request, a cost every write would pay for one field.
 */
function keyLines(req: IncomingMessage): string[] | undefined {
  if (req.headers['idempotency-key'] === undefined) return undefined;
  const lines: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.length === 15 && raw[i]!.toLowerCase() === 'idempotency-key') lines.push(raw[i + 1]!);
  return lines;
}

function pass(next: Next, error?: unknown): true {
  if (error === undefined) next();
  else next(error as Error);
  return true;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> => typeof (value as { then?: unknown } | null)?.then === 'function';
const hasNoBody = (status: number) => status === 101 || status === 204 || status === 205 || status === 304;

const handlerFailed = (): Answer =>
  problem(
    500,
    'handler-failed',
    'Internal Server Error',
    'The request failed before it was answered and nothing was kept for its Idempotency-Key; send it again with the same key.',
  );

/** Adds Idempotency-Key-Supported to a handler's Response (copied first when its headers are immutable, as fetch()'s are). */
function supported(response: Response): Response {
  try {
    response.headers.set(SUPPORTED_HEADER, SUPPORTED);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set(SUPPORTED_HEADER, SUPPORTED);
    return copy;
  }
}
