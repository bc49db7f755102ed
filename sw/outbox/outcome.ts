/** What a replay's answer means for the entry, and when to try again. */
import type { ReplayPolicy } from './entry.js';

export type Outcome = 'done' | 'retry' | 'conflict' | 'auth' | 'dead';

/** Statuses retried everywhere; a route may add its own (`retryStatuses`). */
export const RETRYABLE = [408, 429, 500, 502, 503, 504];

/** Classifies a status; `undefined` is a network error or a timeout. */
export function classify(status: number | undefined, policy: ReplayPolicy): Outcome {
  if (status === undefined) return 'retry';
  // A route's own lists come first: a server that answers 409 for "same
  // idempotency key still in flight" wants 409 retried, not parked.
  if (policy.retry.includes(status)) return 'retry';
  if (policy.conflict.includes(status)) return 'conflict';
  // 0 is an opaque redirect: replays do not follow redirects.
  if (status < 400) return 'done';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  if (status === 401 || status === 403) return 'auth';
  return 'dead';
}

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 5 * 60 * 1000;

/**
 * Exponential backoff with full jitter: a random delay up to base·2^(n-1),
 * capped, so that many clients coming back at once do not retry in step.
 */
export const backoffMs = (attempts: number, random = Math.random, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS): number =>
  Math.floor(random() * Math.min(cap, base * 2 ** Math.max(0, attempts - 1)));

/** `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
