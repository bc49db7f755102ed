/**
 * The framework-neutral half of `idempotency()`: from a request's method,
 * target, key and body to one decision (pass it on, answer it here, or run
 * the handler under a lease), and the lease that then keeps the key while the
 * handler runs and stores or frees it when the handler has answered. The node
 * and Fetch adapters in idempotency.ts only translate.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { type IdempotencyStore, isStoreUnavailable, type StoredResponse } from './store.js';
import { type BodySource, fingerprint, sha256 } from './fingerprint.js';
import { parseIdempotencyKey } from './idempotency-key.js';
import { type Answer, problem } from './problem.js';
import { keptHeaders } from './response-capture.js';

/** How long a client is told to wait when the store did not answer. */
export const STORE_RETRY_AFTER_SECONDS = 5; // seconds
/** How long a client is told to wait while the first request with its key still runs. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1; // seconds

/**
 * Answers that say the request was not processed and may be sent again as
 * it is: kept, a retry with the same key would be told "no" until the key
 * expires, although nothing was done. 401 (the worker resumes parked writes
 * with the same key once the user signs in again), 408, 412 (a `client-wins`
 * resend drops If-Match but keeps the key), 425, 428, 429. Every 5xx too.
 */
const NOT_PROCESSED = new Set([401, 408, 412, 425, 428, 429]);
export const keepsAnswer = (status: number): boolean => status < 500 && !NOT_PROCESSED.has(status);

export interface LeaseSettings {
  store: IdempotencyStore;
  ttlMs: number;
  leaseMs: number;
  keepHeaders: readonly string[];
  required: boolean;
  strict: boolean;
}

/** What the adapter knows about a request, with the costly parts deferred until a key makes them needed. */
export interface Incoming {
  method: string;
  target: string;
  contentType: string | null | undefined;
  keyField: readonly string[] | string | null | undefined;
  scope(): unknown;
  body(): Promise<{ ok: true; source: BodySource } | { ok: false; answer: Answer | undefined; close: boolean }>;
}

export type Admission =
  | { kind: 'pass' }
  | { kind: 'answer'; answer: Answer }
  /** The client went away while sending its body. */
  | { kind: 'gone' }
  | { kind: 'run'; lease: Lease };

export interface Lease {
  /** The key as the client sent it. */
  readonly key: string;
  /** Stores the answer (or, for an answer not kept, frees the key) before it is sent; never rejects. */
  settle(status: number, headers: OutgoingHttpHeaders | IncomingHttpHeaders, body: Uint8Array): Promise<void>;
  /** Frees the key: the handler failed without an answer. Never rejects. */
  fail(): Promise<void>;
  /** The client left before an answer: renewals stop, so an abandoned handler frees the key within one lease. */
  abandon(): void;
}

/** `[scope, key]` as the store sees it: sha256, base64url, so neither the user id nor the key is kept in the clear. */
export const storeKeyOf = (scope: string | undefined, key: string): string => sha256(JSON.stringify([scope ?? null, key]));

const missingKey = () =>
  problem(
    400,
    'idempotency-key-missing',
    'Idempotency-Key is required',
    'This endpoint needs an Idempotency-Key header on every write; send a fresh one per request and the same one on its retries, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324".',
  );
const inFlight = () =>
  problem(
    409,
    'idempotency-key-in-flight',
    'A request with this Idempotency-Key is still being processed',
    `The first request with this key has not answered yet; retry this one unchanged after ${IN_FLIGHT_RETRY_AFTER_SECONDS} s and it gets that answer.`,
    { 'retry-after': String(IN_FLIGHT_RETRY_AFTER_SECONDS) },
  );
const reused = () =>
  problem(
    422,
    'idempotency-key-reused',
    'Idempotency-Key already used for a different request',
    'This key was first sent with another method, path or body; a different request needs a new Idempotency-Key.',
  );
const unavailable = (error: unknown) =>
  problem(
    503,
    'store-unavailable',
    'Service Unavailable',
    `The idempotency store did not answer (${(error as Error).message}), so nothing was done; retry the same request with the same Idempotency-Key after ${STORE_RETRY_AFTER_SECONDS} s.`,
    { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) },
  );

const log = (message: string, error?: unknown) => console.error(`offline-outbox/server: ${message}`, ...(error === undefined ? [] : [error]));

/**
 * Decides what to do with a write. Rejects only when the app's `scope`
 * throws or the store fails with something other than StoreUnavailableError:
 * the adapter hands that on as the app's error, without running the handler.
 */
export async function admit(incoming: Incoming, settings: LeaseSettings): Promise<Admission> {
  const parsed = parseIdempotencyKey(incoming.keyField, { strict: settings.strict });
  if (parsed.kind === 'absent') return settings.required ? { kind: 'answer', answer: missingKey() } : { kind: 'pass' };
  if (parsed.kind === 'invalid') return { kind: 'answer', answer: problem(400, parsed.code, 'Idempotency-Key is not valid', parsed.message) };
  const scope = await incoming.scope();
  const body = await incoming.body();
  if (!body.ok) return body.answer ? { kind: 'answer', answer: body.answer } : { kind: 'gone' };
  const print = fingerprint({ method: incoming.method, target: incoming.target, contentType: incoming.contentType, body: body.source });
  const storeKey = storeKeyOf(scope == null ? undefined : String(scope), parsed.key);
  let claim: Awaited<ReturnType<IdempotencyStore['claim']>>;
  try {
    claim = await settings.store.claim(storeKey, print, settings.leaseMs);
  } catch (error) {
    if (isStoreUnavailable(error)) return { kind: 'answer', answer: unavailable(error) };
    throw error;
  }
  if (claim.state !== 'claimed') {
    if (claim.fingerprint !== print) return { kind: 'answer', answer: reused() };
    if (claim.state === 'running') return { kind: 'answer', answer: inFlight() };
    return { kind: 'answer', answer: replay(claim.response) };
  }
  return { kind: 'run', lease: startLease(settings, parsed.key, storeKey, claim.token, print) };
}

function replay(stored: StoredResponse): Answer {
  return { status: stored.status, headers: { ...stored.headers, 'idempotent-replayed': 'true' }, body: Buffer.from(stored.body, 'base64') };
}

/**
 * The leases a middleware holds, renewed together: one timer per middleware
 * rather than one per request (a timer each is garbage on every write). A
 * third of the lease: two renewals can fail (a slow store) before another
 * request may take the key.
 */
const renewals = new WeakMap<LeaseSettings, Set<() => Promise<void>>>();

function renewTogether(settings: LeaseSettings, renew: () => Promise<void>): () => void {
  let held = renewals.get(settings);
  if (!held) {
    const leases = new Set<() => Promise<void>>();
    held = leases;
    renewals.set(settings, leases);
    const timer = setInterval(() => {
      for (const lease of leases) void lease();
      if (!leases.size) {
        clearInterval(timer);
        renewals.delete(settings);
      }
    }, settings.leaseMs / 3);
    timer.unref();
  }
  const leases = held;
  leases.add(renew);
  return () => leases.delete(renew);
}

function startLease(settings: LeaseSettings, key: string, storeKey: string, token: string, print: string): Lease {
  const { store, leaseMs } = settings;
  const named = `Idempotency-Key ${JSON.stringify(key)} (store key ${storeKey})`;
  let renewing = false;
  const stop = renewTogether(settings, async () => {
    if (renewing) return;
    renewing = true;
    try {
      if (!(await store.renew(storeKey, token, leaseMs))) stop();
    } catch {
      // Unreachable store: the next tick tries again; the lease still has two thirds to run.
    } finally {
      renewing = false;
    }
  });

  const release = async () => {
    try {
      await store.release(storeKey, token);
    } catch (error) {
      log(`could not free ${named}; it frees itself when its lease lapses.`, error);
    }
  };
  let settled = false;
  return {
    key,
    async settle(status, headers, body) {
      if (settled) return;
      settled = true;
      stop();
      if (!keepsAnswer(status)) return release();
      const response: StoredResponse = { status, headers: keptHeaders(headers as OutgoingHttpHeaders, settings.keepHeaders), body: Buffer.from(body).toString('base64') };
      try {
        const kept = await store.complete(storeKey, token, print, response, settings.ttlMs);
        if (!kept) log(`the lease on ${named} lapsed before its handler answered (raise leaseSeconds?); the answer was sent but not kept.`);
      } catch (error) {
        log(`could not keep the answer to ${named}; it was sent, but a retry with this key will run the handler again once the lease lapses.`, error);
      }
    },
    async fail() {
      if (settled) return;
      settled = true;
      stop();
      await release();
    },
    abandon() {
      stop();
    },
  };
}
