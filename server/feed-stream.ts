/**
 * Following the store for this process's SSE clients: one subscription per
 * feed, whatever the number of clients, fanned out to each.
 *
 * Order and "once" never rest on the subscription's timing, only on reads:
 * the feed keeps `tail`, the cursor of the last notice it sent, and sends a
 * notice the subscription delivers straight away only when the one
 * delivered before it was `tail` (so nothing can lie between them).
 * Otherwise (the first delivery, or one after a gap) it reads the store from
 * `tail` on. A notice appended while the subscription was starting is not
 * lost either: each heartbeat also reads from `tail`.
 *
 * A client with a Last-Event-ID catches up by reading the store from it,
 * while the notices the feed sends meanwhile are held for it. The client
 * and the feed both move through the store in cursor order, so they meet at
 * a cursor: where the client's read reaches the feed's position when it
 * joined, or a held notice, it sends the held ones after that cursor and
 * goes live. A client whose Last-Event-ID is ahead of this process's feed
 * (it was on another instance) waits for the feed to send that cursor. No
 * cursor is ever compared: they are opaque.
 */
import { type EventSink, formatComment, formatEvent } from './event-stream.js';
import type { FeedEntry, FeedStore } from './store.js';

/** How soon a browser's EventSource reconnects after losing the stream. */
export const RETRY_MS = 1000;
/** Notices read from the store at once. */
const PAGE = 1000;
/** Live notices held for one client still catching up; past them it is dropped (it reconnects and catches up again). */
const MAX_HELD = 100_000;

export interface FeedClient {
  sink: EventSink;
  /** Set while it catches up. */
  behind?: {
    /** Cursor → index in `held`; -1 for the feed's position when the client joined. */
    at: Map<string, number>;
    held: FeedEntry[];
    /** Read up to here, past what the feed has sent: it goes live when the feed sends this one. */
    waitFor?: string;
  };
}

export const noticeEvent = (entry: FeedEntry): string => formatEvent({ id: entry.cursor, data: JSON.stringify(entry) });
export const resetEvent = (cursor: string): string => formatEvent({ event: 'reset', id: cursor, data: JSON.stringify({ reset: true, cursor }) });

export function createFeedStream(feed: FeedStore, heartbeatMs: number) {
  const clients = new Set<FeedClient>();
  let holds = 0;
  let started: Promise<void> | undefined;
  let unsubscribe: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let tail: string | undefined;
  let lastDelivered: string | undefined;
  let pumping = false;
  let again = false;
  // Bumped on each stop: a read begun before it finds its answer stale.
  let run = 0;

  function send(entry: FeedEntry): void {
    tail = entry.cursor;
    const text = noticeEvent(entry);
    for (const client of clients) {
      const behind = client.behind;
      if (!behind) client.sink.write(text);
      else {
        behind.at.set(entry.cursor, behind.held.push(entry) - 1);
        if (behind.waitFor === entry.cursor) live(client, entry.cursor);
        else if (behind.held.length > MAX_HELD) client.sink.close();
      }
    }
  }

  /** The client has everything up to `at`: the held notices after it go, and it is live. */
  function live(client: FeedClient, at: string): void {
    const { at: index, held } = client.behind!;
    client.behind = undefined;
    const rest = held.slice(index.get(at)! + 1);
    if (rest.length) client.sink.write(rest.map(noticeEvent).join(''));
  }

  function delivered(entry: FeedEntry): void {
    const inStep = !pumping && tail !== undefined && lastDelivered === tail;
    lastDelivered = entry.cursor;
    if (inStep) send(entry);
    else void pump();
  }

  /** Reads the store from `tail` and sends what it finds; one read at a time, another after it when asked meanwhile. */
  async function pump(): Promise<void> {
    if (tail === undefined) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    const mine = run;
    try {
      do {
        again = false;
        for (let more = true; more; ) {
          const read = await feed.read(tail, PAGE);
          if (mine !== run) return;
          if (read.reset) {
            // What this feed sent last was trimmed before it read on (a burst
            // past maxLength): its clients reconnect, and each is caught up or reset.
            tail = read.cursor;
            for (const client of [...clients]) client.sink.close();
            return;
          }
          for (const entry of read.notices) send(entry);
          more = read.more;
        }
      } while (again);
    } catch {
      // The store did not answer: the next delivery or heartbeat reads again from `tail`.
    } finally {
      if (mine === run) pumping = false;
    }
  }

  /** The client reads the store from `from` until it meets the feed (see the file header). */
  async function catchUp(client: FeedClient, from: string): Promise<void> {
    let at = from;
    let reset = false;
    try {
      for (;;) {
        const behind = client.behind;
        if (!behind || client.sink.closed) return;
        if (behind.at.has(at)) return live(client, at);
        const read = await feed.read(at, PAGE);
        if (client.behind !== behind) return;
        if (read.reset) {
          // Twice in one catch-up: the store trims faster than this client reads; it reconnects.
          if (reset) return client.sink.close();
          reset = true;
          client.sink.write(resetEvent(read.cursor));
          at = read.cursor;
          continue;
        }
        let text = '';
        let met = false;
        for (const entry of read.notices) {
          text += noticeEvent(entry);
          at = entry.cursor;
          if ((met = behind.at.has(at))) break;
        }
        if (text) client.sink.write(text);
        if (met) return live(client, at);
        if (!read.more) {
          // `at` is the newest notice in the store as this read saw it, and
          // the feed has not sent it yet (it would be held): the client is
          // ahead of this process, and goes live when the feed sends it.
          behind.waitFor = at;
          void pump();
          return;
        }
      }
    } catch {
      // The store did not answer: the client reconnects with its Last-Event-ID.
      client.sink.close();
    }
  }

  function stop(): void {
    run++;
    unsubscribe?.();
    clearInterval(timer);
    unsubscribe = timer = started = tail = lastDelivered = undefined;
    pumping = again = false;
  }
  const idle = () => {
    if (!clients.size && !holds) stop();
  };

  return {
    /** Follows the store (once, for every client); rejects when the store does not answer. */
    start(): Promise<void> {
      started ??= (async () => {
        const mine = run;
        unsubscribe = feed.subscribe(delivered);
        timer = setInterval(() => {
          for (const client of clients) client.sink.write(formatComment('heartbeat'));
          void pump();
        }, heartbeatMs);
        // The stream never keeps a process alive by itself.
        timer.unref?.();
        try {
          const head = await feed.head();
          if (mine === run) tail = head;
        } catch (error) {
          if (mine === run) stop();
          throw error;
        }
      })();
      return started;
    },
    /** Keeps the feed following the store while a client is on its way in; returns the release. */
    hold(): () => void {
      holds++;
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        holds--;
        idle();
      };
    },
    /** Adds a client (after start): live at once without `from`, else once it has caught up from it. */
    join(client: FeedClient, from: string | undefined): void {
      if (client.sink.closed) return;
      clients.add(client);
      // A fresh client's id is the feed's position: its EventSource reconnects from there.
      if (from === undefined) {
        client.sink.write(formatEvent({ retryMs: RETRY_MS, id: tail }));
        return;
      }
      client.behind = { at: new Map([[tail!, -1]]), held: [] };
      client.sink.write(formatEvent({ retryMs: RETRY_MS }));
      void catchUp(client, from);
    },
    /** The client went away. */
    leave(client: FeedClient): void {
      clients.delete(client);
      client.behind = undefined;
      idle();
    },
    /** How many clients this process streams to. */
    get size(): number {
      return clients.size;
    },
    close(): void {
      for (const client of [...clients]) client.sink.close();
      stop();
    },
  };
}
