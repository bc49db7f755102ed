/**
 * Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html)
 * written to one client: node's `res` (node:http, Express, Fastify's raw
 * reply) or a Web `ReadableStream` (Fetch-API servers). One formatter for
 * both; each sink only moves text and says when its client has gone.
 */
/** What an event stream answers with: no cache may keep or buffer it (nginx reads `x-accel-buffering`). */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};

/**
 * Past this many bytes written and not yet taken by a client, the client is
 * dropped: a reader that stopped reading must not grow the server's memory.
 * It reconnects with its Last-Event-ID and catches up from the store.
 */
export const MAX_UNSENT_BYTES = 4 * 1024 * 1024;

export interface ServerSentEvent {
  /** Becomes the client's Last-Event-ID; no line breaks or NUL. */
  id?: string;
  /** The event type (`message` when absent). */
  event?: string;
  /** Any text; each of its lines goes on a `data:` line of its own. */
  data?: string;
  /** How long a disconnected EventSource waits before reconnecting. */
  retryMs?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** One event as its wire text, ending with the blank line that dispatches it. */
export function formatEvent({ id, event, data, retryMs }: ServerSentEvent): string {
  let text = '';
  if (retryMs !== undefined) text += `retry: ${Math.max(0, Math.floor(retryMs))}\n`;
  if (event !== undefined) text += `event: ${oneLine(event, 'event')}\n`;
  // A browser ignores an id holding NUL; a line break would end the field early.
  if (id !== undefined) text += `id: ${oneLine(id, 'id')}\n`;
  if (data !== undefined) for (const line of data.split(LINE_BREAK)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** A comment: clients ignore it; proxies and idle timers see traffic (a heartbeat). */
export const formatComment = (text: string): string =>
  `${text
    .split(LINE_BREAK)
    .map((line) => `: ${line}`)
    .join('\n')}\n\n`;

function oneLine(value: string, field: string): string {
  if (LINE_BREAK.test(value) || value.includes('\0'))
    throw Object.assign(new TypeError(`event stream: the ${field} ${JSON.stringify(value)} holds a line break or NUL; an ${field} must be one line`), {
      code: 'invalid-event-field',
    });
  return value;
}

/** One client's stream, whatever carries it. */
export interface EventSink {
  /** Sends text (formatted events); ignored once closed. */
  write(text: string): void;
  /** Ends the stream (the client may reconnect). */
  close(): void;
  readonly closed: boolean;
}

/** What the feed reads of node's request (node:http, Express, Fastify's `request.raw`), by shape. */
export interface NodeRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly url?: string;
}

/** What the feed uses of node's response (node:http, Express, Fastify's `reply.raw`), by shape. */
export interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): unknown;
  end(body?: Uint8Array): unknown;
  on(event: 'close', listener: () => void): unknown;
  destroy(): unknown;
  readonly destroyed: boolean;
  readonly headersSent: boolean;
  /** Bytes written and not yet taken by the client. */
  readonly writableLength: number;
}

/**
 * Starts an event stream on `res` (status 200 and EVENT_STREAM_HEADERS);
 * `onClose` runs once, when the client goes away or the stream is closed.
 */
export function nodeEventSink(res: NodeResponse, onClose: () => void): EventSink {
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    onClose();
  };
  res.on('close', finish);
  // Gone while the feed was starting: its 'close' has already fired.
  if (res.destroyed) queueMicrotask(finish);
  else res.writeHead(200, EVENT_STREAM_HEADERS);
  return {
    write(text) {
      if (closed) return;
      res.write(text);
      // A compression middleware holds bytes back until flushed.
      (res as { flush?: () => void }).flush?.();
      if (res.writableLength > MAX_UNSENT_BYTES) {
        res.destroy();
        finish();
      }
    },
    close() {
      if (closed) return;
      res.end();
      finish();
    },
    get closed() {
      return closed;
    },
  };
}

/**
 * An event stream as a Fetch `Response` body; `signal` (the request's) ends
 * it, as does the server cancelling the body when the client goes away.
 */
export function webEventSink(signal: AbortSignal | undefined, onClose: () => void): { sink: EventSink; body: ReadableStream<Uint8Array> } {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener('abort', abort);
    onClose();
  };
  const abort = () => {
    try {
      controller.close();
    } catch {}
    finish();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      cancel: finish,
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
  if (signal?.aborted) queueMicrotask(abort);
  else signal?.addEventListener('abort', abort, { once: true });
  const sink: EventSink = {
    write(text) {
      if (closed) return;
      controller.enqueue(encoder.encode(text));
      // desiredSize goes below zero by what is queued past the high-water mark.
      if ((controller.desiredSize ?? 0) < -MAX_UNSENT_BYTES) {
        controller.error(new Error('event stream: the client stopped reading; it reconnects and catches up'));
        finish();
      }
    },
    close: abort,
    get closed() {
      return closed;
    },
  };
  return { sink, body };
}
