/**
 * The change feed. Every change made through the API becomes a notice that
 * names what changed and carries none of its data:
 *   {"resource":"todos","id":"…","type":"created|updated|deleted","version":3,"cursor":"…"}
 * The last MAX_NOTICES are kept with the data. Each is pushed to every open
 * `GET /api/changes/stream` (Server-Sent Events) once it is saved, and
 * `GET /api/changes?since=<cursor>` answers the ones after a cursor, for a
 * client catching up after it was away.
 */
import { randomBytes } from 'node:crypto';

export const MAX_NOTICES = 1000;
export const HEARTBEAT_MS = 15_000;
/** How soon a browser's EventSource reconnects after losing the stream. */
export const RETRY_MS = 1000;

/** `saved` is what `toJSON()` gave before. */
export function createChangeFeed(saved) {
  // A cursor is "<epoch>.<n>", the position after the n-th change. The epoch
  // is new with each data file, so a cursor from a deleted file is unknown
  // here (the answer is then every kept notice) rather than a wrong position.
  const epoch = saved?.epoch ?? randomBytes(4).toString('hex');
  const notices = saved?.notices ?? [];
  let last = saved?.last ?? 0;
  // Notices up to `sent` are saved and public; later ones are waiting for their save.
  let sent = last;
  const streams = new Set();
  const cursorAt = (n) => `${epoch}.${n}`;

  /** The position a cursor names, or undefined when it is not one this feed can continue from. */
  function position(cursor) {
    const match = /^([0-9a-f]+)\.(\d+)$/.exec(cursor ?? '');
    const n = match && match[1] === epoch ? Number(match[2]) : NaN;
    return n >= last - notices.length && n <= sent ? n : undefined;
  }
  /** The kept notices after position `n` up to position `upTo`. */
  const between = (n, upTo) => notices.slice(Math.max(0, notices.length - (last - n)), Math.max(0, notices.length - (last - upTo)));
  const event = (notice) => `id: ${notice.cursor}\ndata: ${JSON.stringify(notice)}\n\n`;

  // A comment line now and then keeps proxies and idle timeouts from closing a quiet stream.
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': heartbeat\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    /** The position of the newest notice. */
    get last() {
      return last;
    },
    /** Records a change; it goes out with the next `broadcast` that covers it. */
    publish({ resource, id, type, version }) {
      last += 1;
      notices.push({ resource, id, type, version, cursor: cursorAt(last) });
      if (notices.length > MAX_NOTICES) notices.splice(0, notices.length - MAX_NOTICES);
    },
    /** Sends every notice up to position `upTo` (now saved) to the open streams, in order. */
    broadcast(upTo) {
      if (upTo <= sent) return;
      const text = between(sent, upTo).map(event).join('');
      sent = upTo;
      for (const res of streams) res.write(text);
    },
    /** The answer to `GET /api/changes?since=<cursor>`. */
    since(cursor) {
      const n = position(cursor) ?? last - notices.length;
      return { notices: between(n, sent), cursor: cursorAt(sent) };
    },
    /** Serves `GET /api/changes/stream` on `res` until the client goes away. */
    open(req, res) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // A reconnecting EventSource sends the last id it saw: what it missed comes first.
      const n = position(req.headers['last-event-id']);
      res.write(`retry: ${RETRY_MS}\n\n${n === undefined ? '' : between(n, sent).map(event).join('')}`);
      streams.add(res);
      res.on('close', () => streams.delete(res));
    },
    /** Ends every stream (at shutdown). */
    close() {
      clearInterval(heartbeat);
      for (const res of streams) res.end();
      streams.clear();
    },
    toJSON: () => ({ epoch, last, notices }),
  };
}
