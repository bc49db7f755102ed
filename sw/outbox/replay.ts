/**
 * Replaying one queued write, once claimed (in flight, with a lease): send
 * it with its original method, URL, headers, body and credentials, classify
 * the answer, and only then remove or update it. A worker killed between the
 * fetch and the classification leaves the entry in flight; when the lease
 * lapses it is sent again, with the same Idempotency-Key.
 */
import type { Outcome } from './outcome.js';
import { backoffMs, clampRetryAfter, classify, retryAfterMs } from './outcome.js';
import { borrowCredentials } from './credentials.js';
import { broadcast } from '../shared/broadcast.js';
import type { OutboxEntry } from './entry.js';
import { removeEntry, saveEntry, type Claimed } from './store.js';
import { epochSignal } from '../store/epoch.js';

/** How long an in-flight entry stays claimed without a renewal (renewed every third of it while the replay runs). */
export const LEASE_MS = 15_000;

/**
 * fetch with a timeout; a timeout rejects like a network error. It is also
 * aborted when the epoch ends (log-out) and by `signal` (a pass that lost
 * its leases).
 */
/** `send` makes the request (fetch itself, or a Workbox handler's fetch, which takes no options: the signal is set on the request). */
export async function fetchWithin(
  send: (request: Request) => Promise<Response>,
  url: string,
  init: RequestInit,
  timeoutMs: number | undefined,
  signal?: AbortSignal,
): Promise<Response> {
  const controller = new AbortController();
  const abort = (reason: unknown) => controller.abort(reason);
  const timer = timeoutMs ? setTimeout(() => abort(new DOMException(`no response within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs) : undefined;
  const unlink = [epochSignal(), signal].map((s) => {
    if (!s) return () => {};
    if (s.aborted) abort(s.reason);
    const listener = () => abort(s.reason);
    s.addEventListener('abort', listener);
    return () => s.removeEventListener('abort', listener);
  });
  try {
    return await send(new Request(url, { ...init, signal: controller.signal }));
  } finally {
    clearTimeout(timer);
    for (const u of unlink) u();
  }
}

/** What replays of declared resources' writes add (see resource-replay.ts). */
export interface ReplayContext {
  /** The strong ETag of each item's last delivered write (by `"<resource> <id>"`): the If-Match of a chained write behind it. */
  readonly etags: Map<string, string>;
  /** A write was delivered; true when it took the entry out of the outbox itself. */
  delivered(entry: OutboxEntry, response: Response): Promise<boolean>;
  /** A conflict: the route's policy decides what happens to the write. */
  conflict(entry: OutboxEntry, body: ArrayBuffer | null, status: number): Promise<Outcome>;
}

/** Sends one claimed write and records its outcome; the caller claimed it (see store.claim). */
export async function replayClaimed({ entry, body }: Claimed, context: ReplayContext, signal?: AbortSignal, now = Date.now()): Promise<Outcome> {
  const expired = (at: number) =>
    entry.policy.ttlMs !== undefined &&
    at - entry.createdAt > entry.policy.ttlMs &&
    settle({ ...entry, state: 'dead', lastError: `expired: older than the route's ttlSeconds (${entry.lastError})` }, 'dead');
  const dead = expired(now);
  if (dead) return dead;
  const headers = new Headers(entry.headers);
  if (entry.borrows) {
    const credentials = borrowCredentials(entry.url, entry.borrows);
    // Not sent with no credentials (it would only be refused): it waits for the app's next request.
    if (!credentials) return settle({ ...entry, state: 'auth', lastError: `waiting for the app's credentials (${entry.borrows.join(', ')})` }, 'auth');
    for (const [name, value] of credentials) headers.set(name, value);
  }
  entry.attempts++;
  let status: number | undefined;
  let response: Response | undefined;
  const etag = entry.chained && context.etags.get(`${entry.resource} ${entry.itemId}`);
  if (etag && !headers.has('if-match')) headers.set('if-match', etag);
  try {
    response = await fetchWithin(fetch, entry.url, { method: entry.method, headers, body, credentials: entry.credentials, redirect: 'manual' }, entry.policy.timeoutMs, signal);
    // A redirect is not followed: the write was accepted.
    status = response.type === 'opaqueredirect' ? 0 : response.status;
    entry.lastStatus = status;
  } catch (error) {
    entry.lastStatus = undefined;
    entry.lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  const outcome = classify(status, entry.policy, entry.form);
  if (status !== undefined && outcome !== 'done') entry.lastError = `HTTP ${status}`;
  const at = Date.now();
  if (outcome === 'retry') {
    if (entry.policy.maxAttempts !== undefined && entry.attempts >= entry.policy.maxAttempts)
      return settle({ ...entry, state: 'dead', lastError: `gave up after ${entry.attempts} attempts (${entry.lastError})` }, 'dead');
    const late = expired(at);
    if (late) return late;
    entry.nextAttemptAt = at + clampRetryAfter(retryAfterMs(response?.headers.get('retry-after') ?? null, at), backoffMs(entry.attempts));
    return settle({ ...entry, state: 'pending' }, 'retry');
  }
  if (outcome === 'done') {
    // Removed before the group's next write is sent: a worker killed in
    // between must not resend this one after the next (a server that ignores
    // keys would apply them out of order). Removals of several groups still
    // share transactions (see store.removeEntry).
    if (!(await context.delivered(entry, response!))) await removeEntry(entry.seq!);
    broadcast('replayed', { id: entry.id, status: status! });
    return 'done';
  }
  if (outcome === 'conflict') return context.conflict(entry, body, status!);
  return settle({ ...entry, state: outcome }, outcome);
}

export async function settle(entry: OutboxEntry, outcome: Exclude<Outcome, 'done' | 'conflict'>): Promise<Outcome> {
  await saveEntry(entry);
  const { id, attempts, nextAttemptAt, lastError = '', lastStatus = 0 } = entry;
  if (outcome === 'retry') broadcast('retrying', { id, attempts, nextAttemptAt, error: lastError });
  else if (outcome === 'auth') broadcast('auth-required', { id, status: lastStatus });
  else broadcast('dead', { id, reason: lastError });
  return outcome;
}
