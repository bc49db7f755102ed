/**
 * The page's side of the protocol in `common/messages.ts`: typed requests to
 * the worker, and its events. Ships in `dist/register.js`, so it stays small.
 */
import {
  CHANNEL_NAME,
  PROTOCOL_VERSION,
  isOutboxEvent,
  type EntrySummary,
  type OutboxEvent,
  type OutboxEventType,
  type OutboxReply,
  type OutboxRequest,
  type OutboxRequestMap,
  type OutboxRequestType,
  type OutboxStatus,
  type Resolution,
} from '../common/messages.js';
import { whyNoWorker } from './no-worker.js';

export interface ConnectOptions {
  /** How long a request waits for the worker's reply, including the wait for a worker to become active. @default 10000 */
  timeoutMs?: number;
}

export interface OutboxClient {
  status(): Promise<OutboxStatus>;
  /** Metadata of the queued writes, never their bodies. */
  entries(): Promise<EntrySummary[]>;
  /** Replays the queue now; resolves with the status after the replay. */
  syncNow(): Promise<OutboxStatus>;
  /** Schedules an entry for another attempt; false if there is no such entry. */
  retry(id: string): Promise<boolean>;
  /** Drops an entry without sending it; false if there is no such entry. */
  discard(id: string): Promise<boolean>;
  /**
   * Settles a conflicted write: `retry` sends it again unchanged, `discard`
   * drops it (the server's version stays), `replace` sends `body` instead,
   * against the server's version seen at the conflict. False if there is no
   * such entry (or it is being sent right now).
   */
  resolve(id: string, resolution: Resolution): Promise<boolean>;
  /**
   * Log-out: empties the outbox (queued writes are dropped, unsent), the
   * overlay, this worker's caches and the change-feed cursor, in one step.
   */
  clear(): Promise<boolean>;
  /** Listens to the worker's events of one type, or all with '*'; returns the function that stops listening. */
  on<K extends OutboxEventType>(type: K | '*', listener: (event: OutboxEvent<K>) => void): () => void;
  /** Closes the event channel; listening again opens a new one. Requests need no closing. */
  close(): void;
}

/**
 * Codes raised on the page: `no-service-worker`, `worker-timeout`; any other
 * code is the worker's own, passed through.
 */
export class OutboxClientError extends Error {
  override readonly name = 'OutboxClientError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Checks by name, so it works across realms and bundles. */
export const isOutboxClientError = (e: unknown): e is OutboxClientError =>
  typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'OutboxClientError' && typeof (e as { code?: unknown }).code === 'string';

const PREFIX = 'offline-outbox:';

/** Sends one request to the worker and resolves with its reply (see common/messages.ts); rejects after `timeoutMs`. */
export async function askWorker<K extends OutboxRequestType>(op: K, args: OutboxRequestMap[K]['args'], timeoutMs = 10_000): Promise<OutboxRequestMap[K]['reply']> {
  const sw = navigator.serviceWorker as ServiceWorkerContainer | undefined;
  if (!sw) {
    throw new OutboxClientError('no-service-worker', `${PREFIX} ${op}: there is no service worker to ask: ${whyNoWorker()}.`);
  }
  const { port1, port2 } = new MessageChannel();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let posted = false;
  let live = true;
  try {
    return await new Promise<OutboxRequestMap[K]['reply']>((resolve, reject) => {
      // Started before waiting for `ready`, which never resolves on a page outside every registration's scope.
      timer = setTimeout(
        () =>
          reject(
            new OutboxClientError(
              'worker-timeout',
              posted
                ? `${PREFIX} ${op}: the service worker did not answer within ${timeoutMs} ms; it may be busy or of another version. Try again, or reload the page.`
                : `${PREFIX} ${op}: the service worker did not answer within ${timeoutMs} ms: none is active for this page. Load register.js (or call registerOutbox()) on it, with a scope that covers it.`,
            ),
          ),
        timeoutMs,
      );
      port1.onmessage = ({ data }: MessageEvent<OutboxReply<K> | undefined>) => {
        if (data?.ok) resolve(data.value);
        else reject(new OutboxClientError(data?.error?.code ?? 'bad-reply', data?.error?.message ?? `${PREFIX} ${op}: the service worker's reply was malformed; reload the page.`));
      };
      (async () => {
        // Not controlled yet (first visit, or a hard reload): the active worker still answers.
        const worker = sw.controller ?? (await sw.ready).active;
        // After a timeout, a late worker must not act on a request nobody awaits.
        if (!live || !worker) return;
        const message = { kind: 'outbox-request', v: PROTOCOL_VERSION, op, args } as OutboxRequest<K>;
        worker.postMessage(message, [port2]);
        posted = true;
      })().catch(reject);
    });
  } finally {
    live = false;
    clearTimeout(timer);
    port1.close();
  }
}

export function connectOutbox({ timeoutMs = 10_000 }: ConnectOptions = {}): OutboxClient {
  const request = <K extends OutboxRequestType>(op: K, args: OutboxRequestMap[K]['args']) => askWorker(op, args, timeoutMs);
  let channel: BroadcastChannel | undefined;

  // Methods are closures, not `this`-bound, so the object can be spread (see register-entry.ts).
  return {
    status: () => request('status', {}),
    entries: () => request('entries', {}),
    syncNow: () => request('sync-now', {}),
    retry: (id) => request('retry', { id }),
    discard: (id) => request('discard', { id }),
    resolve: (id, resolution) => request('resolve', { id, ...resolution }),
    clear: () => request('clear', {}),
    on<K extends OutboxEventType>(type: K | '*', listener: (event: OutboxEvent<K>) => void) {
      // Safari had service workers (11.1) long before BroadcastChannel (15.4): no events there.
      if (typeof BroadcastChannel === 'undefined') return () => {};
      const target = (channel ??= new BroadcastChannel(CHANNEL_NAME));
      // One DOM listener each, so one that throws does not starve the rest. The data is typed
      // as what passes the test below, since TypeScript cannot narrow to a generic K.
      const handler = ({ data }: MessageEvent<OutboxEvent<K> | null>) => {
        if (isOutboxEvent(data) && (type === '*' || data.type === type)) listener(data);
      };
      target.addEventListener('message', handler);
      // Events that carry the app's data (conflicts) come from the worker to the pages of its scope only.
      const sw = navigator.serviceWorker as ServiceWorkerContainer | undefined;
      sw?.addEventListener('message', handler as EventListener);
      sw?.startMessages();
      return () => {
        target.removeEventListener('message', handler);
        sw?.removeEventListener('message', handler as EventListener);
      };
    },
    close() {
      channel?.close();
      channel = undefined;
    },
  };
}
