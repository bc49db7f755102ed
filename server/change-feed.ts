/**
 * `changeFeed({ store })`: the server's change notices, with cursors.
 *
 * - `publish(notice)` checks the notice (common/notice.ts) and appends it to
 *   the store; it resolves with the notice's cursor (opaque, increasing), for
 *   the write's answer to carry as `X-Change-Cursor`.
 * - `sse` streams each notice as an event whose `id:` is its cursor. A client
 *   that comes back with `Last-Event-ID` first gets what it missed, read from
 *   the store, then the live notices, each once and in order (feed-stream.ts).
 *   One older than the store keeps gets `event: reset` instead: see below.
 * - `since` answers `?since=<cursor>` with the notices after it.
 *
 * `fetchSse` and `fetchSince` are the same for Fetch-API servers (Hono).
 *
 * Reset, decided: an SSE client whose Last-Event-ID is older than what is
 * kept (or unknown) gets one `event: reset` with `id: <cursor>` and data
 * `{"reset":true,"cursor":"…"}`, then the notices from that cursor on. The
 * page's EventSource ignores the event type (it listens for messages only),
 * and on every (re)connect it asks the worker to catch up through `since`
 * from the worker's own stored cursor, which answers `{"reset": true}` too:
 * the worker then revalidates every cached entry of its resources once. The
 * event's `id:` moves the stream's Last-Event-ID on, so the next reconnect
 * does not reset again.
 */
import { checkNotice, type Notice, type NoticeProblem } from '../common/notice.js';
import { EVENT_STREAM_HEADERS, type EventSink, type NodeRequest, type NodeResponse, nodeEventSink, webEventSink } from './event-stream.js';
import { createFeedStream, type FeedClient } from './feed-stream.js';
import { type Answer, problem, sendAnswer, toResponse } from './problem.js';
import { isStoreUnavailable, type OutboxStore } from './store.js';

export interface ChangeFeedOptions {
  /** Where notices are kept: `memoryStore()` or `redisStore(client)`. */
  store: Pick<OutboxStore, 'feed'>;
  /** About how many notices are kept; a cursor older than them gets `reset`. @default 100000 */
  maxLength?: number;
  /** How often an idle stream gets a comment line, so proxies keep it open. @default 15 */
  heartbeatSeconds?: number;
}

/** A notice as an app publishes it: no cursor (the feed gives it). */
export interface PublishedNotice {
  resource: string;
  id: string | number;
  type: Notice['type'];
  version?: number | string;
}

/** The notices one `since` answer holds at most; past them it says `"more": true`. */
export const SINCE_PAGE = 1000;
/** Cursors are short (a Redis stream id, an epoch and a count): a longer Last-Event-ID is not one. */
const MAX_CURSOR_LENGTH = 1024;

/** `publish` was given something that is not a notice; nothing was appended. */
export class InvalidNoticeError extends TypeError {
  override readonly name = 'InvalidNoticeError';
  readonly code = 'invalid-notice';
  /** The first field found wrong (`notice` when it is not an object at all). */
  readonly field: string;
  constructor({ field, message }: NoticeProblem) {
    super(`changeFeed.publish: ${message}. Nothing was published.`);
    this.field = field;
  }
}

const optionError = (message: string) => Object.assign(new TypeError(`changeFeed: ${message}`), { code: 'invalid-option' });

function json(value: unknown): Answer {
  return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: Buffer.from(JSON.stringify(value), 'utf8') };
}

/** The store did not answer: 503, retry shortly. Anything else is the app's to handle (rethrown). */
function unavailable(error: unknown): Answer {
  if (!isStoreUnavailable(error)) throw error;
  return problem(503, 'store-unavailable', 'Change feed unavailable', `The change feed's store did not answer (${error.message}). Retry shortly.`, { 'retry-after': '1' });
}

const closedAnswer = () =>
  problem(503, 'feed-closed', 'Change feed closed', 'This change feed was closed (the server is shutting down). Reconnect to another instance or retry shortly.', {
    'retry-after': '1',
  });

/** A Last-Event-ID header's cursor: undefined when there is none; '' when it cannot be a cursor (the client is reset). */
function lastEventId(value: string | string[] | null | undefined): string | undefined {
  const id = Array.isArray(value) ? value[0] : value;
  if (!id) return undefined;
  return id.length > MAX_CURSOR_LENGTH ? '' : id;
}

export function changeFeed(options: ChangeFeedOptions) {
  const { store, maxLength = 100_000, heartbeatSeconds = 15 } = options ?? ({} as ChangeFeedOptions);
  const feed = store?.feed;
  if (!feed || typeof feed.append !== 'function' || typeof feed.read !== 'function' || typeof feed.subscribe !== 'function')
    throw optionError('store must be an outbox store (memoryStore() or redisStore(client)); got none');
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) throw optionError(`maxLength must be a whole number of notices, 1 or more; got ${String(maxLength)}`);
  if (!(Number.isFinite(heartbeatSeconds) && heartbeatSeconds > 0)) throw optionError(`heartbeatSeconds must be a positive number; got ${String(heartbeatSeconds)}`);

  const stream = createFeedStream(feed, heartbeatSeconds * 1000);
  let closed = false;

  /** Starts a client's stream once the feed follows the store (`attach` makes its sink, given what to call when it closes); an answer when it could not. */
  async function open(from: string | undefined, attach: (onClose: () => void) => EventSink): Promise<Answer | undefined> {
    if (closed) return closedAnswer();
    const release = stream.hold();
    try {
      await stream.start();
    } catch (error) {
      release();
      return unavailable(error);
    }
    if (closed) {
      release();
      return closedAnswer();
    }
    const client: FeedClient = { sink: attach(() => stream.leave(client)) };
    stream.join(client, from);
    release();
    return undefined;
  }

  async function sinceAnswer(since: string | null): Promise<Answer> {
    try {
      if (since === null) return json({ notices: [], cursor: await feed.head() });
      const read = await feed.read(since.length > MAX_CURSOR_LENGTH ? '' : since, SINCE_PAGE);
      if (read.reset) return json({ reset: true, cursor: read.cursor });
      return json(read.more ? { notices: read.notices, cursor: read.cursor, more: true } : { notices: read.notices, cursor: read.cursor });
    } catch (error) {
      return unavailable(error);
    }
  }

  return {
    /** Appends a notice; resolves with its cursor. Rejects with InvalidNoticeError (code `invalid-notice`) when it is not one. */
    async publish(notice: PublishedNotice): Promise<string> {
      const wrong = checkNotice(notice);
      if (wrong) throw new InvalidNoticeError(wrong);
      const { resource, id, type, version } = notice;
      return feed.append(version === undefined ? { resource, id: String(id), type } : { resource, id: String(id), type, version }, maxLength);
    },

    /** `GET <stream>` on node:http, Express or Fastify's raw request/reply. */
    async sse(req: NodeRequest, res: NodeResponse): Promise<void> {
      const refused = await open(lastEventId(req.headers['last-event-id']), (onClose) => nodeEventSink(res, onClose));
      if (refused) sendAnswer(res as never, refused);
    },

    /** `GET <since>?since=<cursor>` on node:http, Express or Fastify's raw request/reply. */
    async since(req: NodeRequest, res: NodeResponse): Promise<void> {
      sendAnswer(res as never, await sinceAnswer(new URL(req.url ?? '/', 'http://localhost').searchParams.get('since')));
    },

    /** The stream for a Fetch-API server; `request.signal` ends it. */
    async fetchSse(request: Request): Promise<Response> {
      let body: ReadableStream<Uint8Array> | undefined;
      const refused = await open(lastEventId(request.headers.get('last-event-id')), (onClose) => {
        const web = webEventSink(request.signal, onClose);
        body = web.body;
        return web.sink;
      });
      if (refused) return toResponse(refused);
      return new Response(body, { status: 200, headers: EVENT_STREAM_HEADERS });
    },

    /** `since` for a Fetch-API server. */
    async fetchSince(request: Request): Promise<Response> {
      return toResponse(await sinceAnswer(new URL(request.url).searchParams.get('since')));
    },

    /** Ends every stream and stops following the store (the store itself stays open: it is the app's). */
    close(): void {
      closed = true;
      stream.close();
    },
  };
}

export type ChangeFeed = ReturnType<typeof changeFeed>;
