/** A queued write, as the outbox stores it (its body lives apart, in `bodies`). */
import type { EntryState, EntrySummary } from '../../common/messages.js';

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
}

export interface OutboxEntry extends EntrySummary {
  /** Assigned by the store: strictly increasing, the FIFO order. */
  seq?: number;
  headers: [string, string][];
  credentials: RequestCredentials;
  policy: ReplayPolicy;
  /** While in flight: until when the replaying worker holds it (ms since epoch). */
  leaseUntil: number;
}

export type { EntryState };

/** Entries that hold their group back: everything but the dead. */
export const isLive = (e: { state: EntryState }): boolean => e.state !== 'dead';

export function toSummary(e: OutboxEntry): EntrySummary {
  const { id, key, group, priority, method, url, state, createdAt, attempts, nextAttemptAt, lastError, lastStatus, bodyBytes } = e;
  return { id, key, group, priority, method, url, state, createdAt, attempts, nextAttemptAt, lastError, lastStatus, bodyBytes };
}
