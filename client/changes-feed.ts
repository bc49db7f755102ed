/**
 * The page's end of the change feed: one connection per tab to the
 * manifest's `changes.stream` (Server-Sent Events) or `changes.websocket`,
 * reconnecting with backoff, forwarding notices to the worker in batches.
 * The worker checks them (this side only parses JSON), and on each
 * (re)connect it is asked to catch up from its cursor.
 */
import type { ChangesSpec } from '../common/manifest.js';
import { askWorker } from './connect-outbox.js';

export interface FeedTarget {
  /** Hands a batch of notices (parsed JSON, or the raw text when it was not JSON) to the worker. */
  deliver(notices: unknown[]): Promise<unknown>;
  /** Asks the worker to fetch what it missed since its cursor. */
  catchUp(): Promise<unknown>;
}

/** The longest a reconnect waits, and the first wait. */
const MAX_BACKOFF_MS = 60_000;
const FIRST_BACKOFF_MS = 1_000;

/** Connects to the feed; returns the function that disconnects. */
export function followChanges(changes: ChangesSpec, target: FeedTarget): () => void {
  let batch: unknown[] = [];
  let sending = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let backoff = FIRST_BACKOFF_MS;
  let closed = false;
  let close: () => void = () => {};
  const quietly = (p: Promise<unknown>) => void p.catch(() => {});

  const receive = (data: unknown) => {
    let notice: unknown = data;
    try {
      notice = JSON.parse(String(data));
    } catch {}
    batch.push(notice);
    flush();
  };
  /**
   * One message at a time: a notice goes at once, and those
   * that arrive while the worker takes a batch go together in the next one,
   * so a burst of 10,000 is a few messages, not 10,000, and a lone notice
   * waits for nothing.
   */
  const flush = () => {
    if (sending || !batch.length) return;
    const notices = batch;
    batch = [];
    sending = true;
    void target
      .deliver(notices)
      .catch(() => {})
      .finally(() => {
        sending = false;
        flush();
      });
  };
  const opened = () => {
    backoff = FIRST_BACKOFF_MS;
    quietly(target.catchUp());
  };
  const reconnect = () => {
    close();
    if (closed || retry) return;
    // Full jitter, so that a server restart is not met by every tab at once.
    retry = setTimeout(() => {
      retry = undefined;
      connect();
    }, Math.random() * backoff);
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  };

  function connect(): void {
    if (closed) return;
    if (changes.websocket) {
      const url = new URL(changes.websocket, location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const socket = new WebSocket(url);
      socket.onopen = opened;
      socket.onmessage = (e) => receive(e.data);
      socket.onclose = reconnect;
      close = () => socket.close();
    } else if (changes.stream) {
      const source = new EventSource(changes.stream, { withCredentials: true });
      source.onopen = opened;
      source.onmessage = (e) => receive(e.data);
      // EventSource retries by itself while it can; once it gives up (an HTTP
      // error, a wrong content type), it is CLOSED and we retry with backoff.
      source.onerror = () => source.readyState === EventSource.CLOSED && reconnect();
      close = () => source.close();
    }
  }

  connect();
  return () => {
    closed = true;
    clearTimeout(retry);
    close();
  };
}

/**
 * Connects this tab to the manifest's feed and forwards its notices to the
 * worker, as register.js does; for apps that register the worker themselves
 * (`registerOutbox`). `ready` resolves once a worker can be asked (a falsy
 * value: there is none, and notices are dropped); what is lost before, the
 * catch-up on the next connection fetches.
 */
export function forwardChanges(changes: ChangesSpec, ready: Promise<unknown> = navigator.serviceWorker.ready): () => void {
  const whenReady = <T>(ask: () => Promise<T>) => ready.then((r) => r && ask());
  return followChanges(changes, {
    deliver: (notices) => whenReady(() => askWorker('notices', { notices })),
    catchUp: () => whenReady(() => askWorker('catch-up', {})),
  });
}
