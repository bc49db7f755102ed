/**
 * `conditional({ etag })`: RFC 9110 preconditions from the app's current
 * ETag. Reads get a strong ETag and `If-None-Match` → 304; writes get
 * `If-Match` checked (a lost update answered 412 with the current ETag, so
 * the client can fetch, merge and resend) and `If-None-Match: *` (create only
 * if absent). Evaluated in RFC 9110 §13.2.2's order; If-Unmodified-Since and
 * If-Modified-Since are left to the app (tags are what this library makes).
 *
 * Place it after `idempotency()`: a retried write must get its stored
 * answer, not a 412 against the tag its own first attempt changed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EntityTag, parseEntityTag, parseEntityTags, strongMatch, weakMatch } from './entity-tag.js';
import type { FetchHandler, Next } from './idempotency.js';
import { type Answer, problem, sendAnswer, toResponse } from './problem.js';

export interface ConditionalOptions<Req = IncomingMessage> {
  /**
   * The current representation's ETag for this request's target (`strongEtag(item)`,
   * or a version as `"17"`), or undefined when there is none. Gets node's
   * request, or under `.fetch` the Fetch Request (`conditional<Request>(…)`).
   */
  etag: (req: Req) => string | undefined | null | Promise<string | undefined | null>;
}

export interface ConditionalMiddleware<Req = IncomingMessage> {
  /** Resolves true once it handed the request to `next`, false when it answered (304, 412) itself. */
  (req: Req, res: ServerResponse, next: Next): Promise<boolean>;
  fetch<Rest extends unknown[]>(handler: FetchHandler<Rest>): (request: Request, ...rest: Rest) => Promise<Response>;
}

export type Outcome = { kind: 'pass' } | { kind: 'not-modified' } | { kind: 'failed'; detail: string };

const IGNORED_METHODS = new Set(['CONNECT', 'OPTIONS', 'TRACE']);
const isRead = (method: string) => method === 'GET' || method === 'HEAD';

/**
 * RFC 9110 §13.2.2 steps 1 and 3, with `current` the representation's tag
 * (as sent in `ETag`, or parsed; undefined: none). Public for handlers that
 * must check inside their own transaction, as conditional() cannot.
 */
export function evaluatePreconditions(method: string, ifMatch: string | null | undefined, ifNoneMatch: string | null | undefined, etag: EntityTag | string | undefined): Outcome {
  const parsed = typeof etag === 'string' ? parseEntityTags(etag) : etag;
  const current = Array.isArray(parsed) ? parsed[0] : (parsed as EntityTag | undefined);
  if (ifMatch != null) {
    const tags = parseEntityTags(ifMatch);
    // §13.1.1: `*` needs a representation; a list needs a strong match, so a weak tag never matches.
    const holds = tags === '*' ? current !== undefined : current !== undefined && (tags ?? []).some((tag) => strongMatch(tag, current));
    if (!holds) {
      return {
        kind: 'failed',
        detail:
          current === undefined
            ? `If-Match: ${ifMatch} names a representation that does not exist (any more); fetch the resource again before changing it, or send no If-Match to create it.`
            : `If-Match: ${ifMatch} does not match the current representation's strong ETag; fetch it again, reapply your change, and resend with the ETag this answer carries.`,
      };
    }
  }
  if (ifNoneMatch != null) {
    const tags = parseEntityTags(ifNoneMatch);
    // §13.1.2: `*` fails when any representation exists; a list fails on a weak match.
    const matched = tags === '*' ? current !== undefined : current !== undefined && (tags ?? []).some((tag) => weakMatch(tag, current));
    if (matched) {
      return isRead(method)
        ? { kind: 'not-modified' }
        : {
            kind: 'failed',
            detail: `If-None-Match: ${ifNoneMatch} matched the current representation, which already exists; fetch it and change it with If-Match instead, or drop If-None-Match.`,
          };
    }
  }
  return { kind: 'pass' };
}

function currentTag(value: string | undefined | null): EntityTag | undefined {
  if (value == null) return undefined;
  const tag = parseEntityTag(value);
  if (!tag) {
    throw Object.assign(
      new TypeError(`conditional(): etag(req) returned ${JSON.stringify(value)}, which is not an entity tag; return one in quotes, e.g. strongEtag(item) or '"17"'.`),
      {
        code: 'invalid-etag',
      },
    );
  }
  return tag;
}

const failedAnswer = (detail: string, etag: string | undefined | null): Answer => problem(412, 'precondition-failed', 'Precondition Failed', detail, etag == null ? {} : { etag });

export function conditional<Req = IncomingMessage>(options: ConditionalOptions<Req>): ConditionalMiddleware<Req> {
  // Reads always need the tag (to send it); writes only when they carry a precondition.
  const needsTag = (method: string, ifMatch: unknown, ifNoneMatch: unknown) => !IGNORED_METHODS.has(method) && (isRead(method) || ifMatch != null || ifNoneMatch != null);

  const middleware = async (req: Req, res: ServerResponse, next: Next): Promise<boolean> => {
    const nodeReq = req as unknown as IncomingMessage;
    const method = nodeReq.method ?? 'GET';
    const { 'if-match': ifMatch, 'if-none-match': ifNoneMatch } = nodeReq.headers;
    if (!needsTag(method, ifMatch, ifNoneMatch)) return pass(next);
    let etag: string | undefined | null;
    let outcome: Outcome;
    try {
      etag = await options.etag(req);
      outcome = evaluatePreconditions(method, ifMatch, ifNoneMatch, currentTag(etag));
    } catch (error) {
      return pass(next, error);
    }
    if (outcome.kind === 'not-modified') {
      res.writeHead(304, { etag: etag! });
      res.end();
      return false;
    }
    if (outcome.kind === 'failed') {
      sendAnswer(res, failedAnswer(outcome.detail, etag));
      return false;
    }
    // Set before the handler, so one that sets its own ETag (a variant, a new version) replaces it.
    if (isRead(method) && etag != null && !res.headersSent && !res.hasHeader('etag')) res.setHeader('etag', etag);
    return pass(next);
  };

  const fetch = <Rest extends unknown[]>(handler: FetchHandler<Rest>) =>
    async function conditionalFetch(request: Request, ...rest: Rest): Promise<Response> {
      const method = request.method;
      const ifMatch = request.headers.get('if-match');
      const ifNoneMatch = request.headers.get('if-none-match');
      if (!needsTag(method, ifMatch, ifNoneMatch)) return handler(request, ...rest);
      const etag = await options.etag(request as unknown as Req);
      const outcome = evaluatePreconditions(method, ifMatch, ifNoneMatch, currentTag(etag));
      if (outcome.kind === 'not-modified') return new Response(null, { status: 304, headers: { etag: etag! } });
      if (outcome.kind === 'failed') return toResponse(failedAnswer(outcome.detail, etag));
      const response = await handler(request, ...rest);
      if (!isRead(method) || etag == null || response.status < 200 || response.status > 299 || response.headers.has('etag')) return response;
      try {
        response.headers.set('etag', etag);
        return response;
      } catch {
        // Immutable headers (a Response from fetch()): copy it.
        const copy = new Response(response.body, response);
        copy.headers.set('etag', etag);
        return copy;
      }
    };

  return Object.assign(middleware, { fetch });
}

function pass(next: Next, error?: unknown): true {
  if (error === undefined) next();
  else next(error as Error);
  return true;
}
