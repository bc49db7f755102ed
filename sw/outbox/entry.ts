/** A queued write, as the outbox stores it (its body lives apart, in `bodies`). */
import type { EntryState, EntrySummary } from '../../common/messages.js';
import type { ConflictPolicy } from '../manifest/types.js';

/** How a write is replayed, fixed when it is queued (a later manifest does not change it). */
export interface ReplayPolicy {
  maxAttempts?: number;
  ttlMs?: number;
  /** Each attempt's timeout. */
  timeoutMs: number;
  /** Statuses to retry beyond 408, 429 and 5xx (a route's `retryStatuses`). */
  retry: number[];
  /** Statuses that mean conflict. @default [409, 412] */
  conflict: number[];
  /** What a conflict does (a route's `queue.conflict`). @default "manual" */
  onConflict?: ConflictPolicy;
  /** The resource's `updatedAtField`, for `newest-wins`. */
  updatedAtField?: string;
}

export interface OutboxEntry extends EntrySummary {
  /** Assigned by the store: strictly increasing, the FIFO order. */
  seq?: number;
  /** Stored headers: without credentials (see credentials.ts) and the route's redactHeaders. */
  headers: [string, string][];
  /** Credential headers the app sent that a replay borrows from its latest live request. */
  borrows?: string[];
  credentials: RequestCredentials;
  policy: ReplayPolicy;
  /** While in flight: until when the replaying worker holds it (ms since epoch). */
  leaseUntil: number;
  /** A create whose `itemId` is local: the server assigns the real one (`ids: "server"`). */
  tempId?: boolean;
  /**
   * Queued behind earlier writes to its item: its If-Match is the ETag the
   * server gave the write before it, known only at replay.
   */
  chained?: boolean;
  /** Resent without preconditions once (`client-wins`): a second conflict parks it. */
  forced?: boolean;
  /** At a conflict: the server's ETag for the item then (`replace` sends If-Match with it). */
  serverEtag?: string;
  /** A classic form post (a navigation): a redirect answering its replay means it was applied. */
  form?: boolean;
  /** A dead write that newer writes of its group went past: retried, it would reorder them (see outbox retry()). */
  overtaken?: boolean;
}

export type { EntryState };

/**
 * The entry as a new request (a changed payload, or one resent without its
 * preconditions): a new Idempotency-Key, without the headers in `drop`, with
 * `ifMatch` when given, and no longer chained.
 */
export function rekeyed(entry: OutboxEntry, drop: string[], ifMatch?: string): Pick<OutboxEntry, 'key' | 'headers' | 'chained'> {
  const key = crypto.randomUUID();
  const headers = entry.headers.filter(([n]) => n !== 'idempotency-key' && !drop.includes(n));
  headers.push(['idempotency-key', `"${key}"`]);
  if (ifMatch) headers.push(['if-match', ifMatch]);
  return { key, headers, chained: undefined };
}

/** Entries that hold their group back: everything but the dead. */
export const isLive = (e: { state: EntryState }): boolean => e.state !== 'dead';

export function toSummary(e: OutboxEntry): EntrySummary {
  // Everything but what replays need: headers (credentials may be in them), policy, bookkeeping.
  const { seq, headers, borrows, credentials, policy, leaseUntil, tempId, chained, forced, serverEtag, overtaken, form, ...summary } = e;
  return summary;
}
