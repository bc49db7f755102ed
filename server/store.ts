/**
 * The one small interface every store of `offline-outbox/server` keeps:
 * `memoryStore()` (one process, nothing to install) and `redisStore(client)`
 * (many processes on one Redis). The middleware and the change feed speak
 * only these verbs, never a store's own commands.
 */

/** A notice as the feed keeps it (see common/notice.ts for the shape the worker accepts). */
export interface FeedNotice {
  resource: string;
  id: string;
  type: 'created' | 'updated' | 'deleted';
  version?: number | string;
}

/** A notice with the cursor the feed gave it. */
export interface FeedEntry extends FeedNotice {
  cursor: string;
}

/** The answer a handler gave, as the idempotency middleware keeps it. */
export interface StoredResponse {
  status: number;
  /** Lower-case names; never `set-cookie`. */
  headers: Record<string, string>;
  /** The body's bytes, base64. */
  body: string;
}

/** What `claim` found. */
export type Claim =
  /** The key is this request's until `leaseMs` passes without a `renew`. */
  | { state: 'claimed'; token: string }
  /** Another request holds the key and has not answered yet. */
  | { state: 'running'; fingerprint: string }
  /** The key was used and its answer is kept. */
  | { state: 'done'; fingerprint: string; response: StoredResponse };

export interface IdempotencyStore {
  /** Claims `key` atomically for `leaseMs`, or says who has it. */
  claim(key: string, fingerprint: string, leaseMs: number): Promise<Claim>;
  /** Extends the lease while the handler runs; false when the lease was lost (expired and claimed again). */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Keeps the answer for `ttlMs` in place of the lease, if `token` still holds it; false when it does not. */
  complete(key: string, token: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<boolean>;
  /** Frees the key (the handler failed, or answered 5xx) if `token` still holds it. */
  release(key: string, token: string): Promise<void>;
}

/** What `read` found after a cursor. */
export type FeedRead =
  /** `cursor`: where the reader stands after `notices` (the last one's cursor, or the one asked for when none). */
  | { reset: false; notices: FeedEntry[]; cursor: string; more: boolean }
  /** The cursor is older than what is kept (or unknown here): the reader must start again from `cursor`. */
  | { reset: true; cursor: string };

export interface FeedStore {
  /** Appends a notice, trimming to about `maxLength` kept; resolves with its cursor (opaque, increasing). */
  append(notice: FeedNotice, maxLength: number): Promise<string>;
  /** The cursor of the newest notice (a fixed starting cursor when there is none yet). */
  head(): Promise<string>;
  /** The notices after `cursor`, oldest first, at most `limit`. */
  read(cursor: string, limit: number): Promise<FeedRead>;
  /**
   * Calls `listener` with every notice appended from now on, by any process
   * sharing the store, in cursor order. Returns the function that stops it.
   */
  subscribe(listener: (entry: FeedEntry) => void): () => void;
}

export interface OutboxStore {
  readonly idempotency: IdempotencyStore;
  readonly feed: FeedStore;
  /** Stops what the store runs in the background (a Redis read loop); the client passed in stays the caller's. */
  close(): Promise<void>;
}

/**
 * The store could not be reached in time (Redis down or slow). The
 * middleware answers 503 with `Retry-After` and never runs the handler
 * without a claim.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'store-unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Across realms and copies of the package, by name. */
export const isStoreUnavailable = (error: unknown): error is StoreUnavailableError => (error as { name?: unknown } | null)?.name === 'StoreUnavailableError';
