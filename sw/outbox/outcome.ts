/** What a replay's answer means for the entry, and when to try again. */
import type { ReplayPolicy } from './entry.js';

export type Outcome = 'done' | 'retry' | 'conflict' | 'auth' | 'dead';

/** Statuses retried everywhere; a route may add its own (`retryStatuses`). 501 is not: it will not work later either. */
const RETRYABLE = [408, 429, 500, 502, 503, 504];

/** Whether a status means "try again later, unchanged": the one definition, for live sends and replays. */
export const isRetryable = (status: number, policy: Pick<ReplayPolicy, 'retry'>): boolean => RETRYABLE.includes(status) || policy.retry.includes(status);

/**
 * Classifies a status; `undefined` is a network error or a timeout. `form`:
 * the write was a classic form post, whose server answers success with a
 * redirect (Post/Redirect/Get).
 */
export function classify(status: number | undefined, policy: ReplayPolicy, form = false): Outcome {
  if (status === undefined) return 'retry';
  // A route's own lists come first: a server that answers 409 for "same
  // idempotency key still in flight" wants 409 retried, not parked.
  if (isRetryable(status, policy)) return 'retry';
  if (policy.conflict.includes(status)) return 'conflict';
  // Replays do not follow redirects (0 is the browser's opaque redirect,
  // which hides the status). An API write answered with a redirect met a
  // session that expired (a 302 to a login page), not a write applied: it
  // waits, visible, like one refused with 401. A form post's redirect is its
  // server's usual success (303 back to a page). Decision: a form app whose
  // expired session redirects to its login page is not told apart from
  // that; it should answer 401 or 403 to a post it did not apply.
  if (status === 0 || (status >= 300 && status < 400 && status !== 304)) return form ? 'done' : 'auth';
  if (status < 400) return 'done';
  if (status === 401 || status === 403) return 'auth';
  return 'dead';
}

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 5 * 60 * 1000;

/**
 * Exponential backoff with jitter: a random delay between base·2^(n-1) and
 * twice that, capped. The jitter keeps many clients coming back at once from
 * retrying in step; the floor keeps one write to at most one attempt per
 * backoff step (full jitter, from 0, let a failing write be retried within
 * milliseconds: the chaos suite saw three attempts in 0.9 s).
 */
export const backoffMs = (attempts: number, random = Math.random, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS): number => {
  const step = Math.min(cap, base * 2 ** Math.max(0, attempts - 1));
  return Math.floor(Math.min(cap, step + random() * step));
};

/**
 * A server's Retry-After, kept within [BACKOFF_BASE_MS, BACKOFF_CAP_MS]: a
 * `Retry-After: 0` must not make the worker hammer the server, nor a ten-year
 * one park a write beyond its TTL's reach. `fallback` when there is none.
 */
export const clampRetryAfter = (ms: number | undefined, fallback = BACKOFF_BASE_MS): number =>
  ms === undefined ? fallback : Math.min(BACKOFF_CAP_MS, Math.max(BACKOFF_BASE_MS, ms));

/** `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
