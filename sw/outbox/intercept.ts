/**
 * A write the manifest routes: stamped with an Idempotency-Key, sent to the
 * network first, and queued (durably, before the page hears back) when the
 * network fails, times out or answers with a retryable status, or straight
 * away when its group already has writes waiting.
 */
import type { RouteSpec } from '../manifest/types.js';
import { itemsAt, overlayItem } from '../overlay/apply.js';
import { isObject } from '../shared/json.js';
import { localWrites } from './local-writes.js';
import { itemUrl, type Resource, type ResourceUrl } from '../resources/resources.js';
import { accepted, notQueued } from './answers.js';
import { broadcast } from '../shared/broadcast.js';
import { toSummary, type OutboxEntry, type ReplayPolicy } from './entry.js';
import { clampRetryAfter, isRetryable, retryAfterMs } from './outcome.js';
import { fetchWithin } from './replay.js';
import { prepareResourceWrite, strongEtag } from './resource-write.js';
import { enqueue, groupIsBusy, namesLocalId } from './store.js';
import { CREDENTIAL_HEADERS } from './credentials.js';
import { endLiveSend, fingerprintOf, recordKey, startWhenFree } from './live-sends.js';
import { currentEpoch } from '../store/epoch.js';

export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;
/** A replay's timeout when the route sets no networkTimeoutSeconds. */
export const DEFAULT_REPLAY_TIMEOUT_MS = 30_000;
/**
 * A live send's timeout when the route sets none: a hung connection would
 * otherwise stall the app and every later write to the item. Past it the
 * write is queued (same key) and replayed.
 */
export const DEFAULT_LIVE_TIMEOUT_MS = 10_000;
const PRIORITIES = { low: 2, normal: 5, high: 8 } as const;

export interface WriteContext {
  /** The page that made the request ('' for a navigation): part of a write's fingerprint (live-sends.ts). */
  clientId: string;
  /** Whether the group's queued writes drain before `ms` (an oversized write may then go live, in order). */
  drained(group: string, ms: number): Promise<boolean>;
  /** Where a form post goes back to when its request has no referrer. */
  fallbackUrl: string;
  /** After a write is queued: ask for a replay (Background Sync, scheduler). */
  onQueued(entry: OutboxEntry): void;
  /** After the network answered a write with success: a sign that queued writes may go now (`answer`: that success). */
  onNetworkSuccess(item: { resource: Resource; id: string } | undefined, answer: Response): void | Promise<void>;
  /** The declared resource a write's URL belongs to (`only`: the route's `resource`). */
  resourceOf(url: URL, only?: string): ResourceUrl | undefined;
  /** The cached response for a URL, by the cache its GET route uses. */
  cached(url: string): Promise<Response | undefined>;
  /** Sends a live request: through the OutboxStrategy's handler, so the route's plugins see it. */
  send(request: Request): Promise<Response>;
}

/**
 * A write that was queued somewhere else (a workbox-background-sync queue
 * being migrated): it goes into the outbox as it is, never live, under `key`
 * (unless the request carries its own) and keeping its age.
 */
export interface AdoptedWrite {
  key: string;
  createdAt: number;
  reason: string;
}

/** Writes to one group are handled one after the other, in the order they arrived. */
const groupTurns = new Map<string, Promise<unknown>>();

function inTurn<T>(group: string, work: () => Promise<T>): Promise<T> {
  const turn = (groupTurns.get(group) ?? Promise.resolve()).then(work, work);
  const settled = turn.catch(() => {});
  groupTurns.set(group, settled);
  void settled.then(() => groupTurns.get(group) === settled && groupTurns.delete(group));
  return turn;
}

function priorityOf(spec: RouteSpec, request: Request): number {
  const p = spec.queue?.priority;
  if (typeof p === 'number') return p;
  if (p) return PRIORITIES[p];
  // Form posts block a page the user is looking at; beacons are background noise.
  return request.mode === 'navigate' ? PRIORITIES.high : request.keepalive ? PRIORITIES.low : PRIORITIES.normal;
}

/** The ordering group of a URL: its path (with its origin when it is another origin's). */
export const groupOf = (href: string, self: string) => {
  const url = new URL(href);
  return url.origin === new URL(self).origin ? url.pathname : url.origin + url.pathname;
};

export async function handleWrite(request: Request, spec: RouteSpec, context: WriteContext, adopted?: AdoptedWrite): Promise<Response> {
  const epoch = currentEpoch();
  const queue = spec.queue ?? {};
  // The body is read once, here; every request sent from now on is built from these bytes.
  const bytes = await request.arrayBuffer();
  const target = context.resourceOf(new URL(request.url), spec.resource);
  const { url, itemId, tempId, body, value } = target
    ? await prepareResourceWrite(target, request.method, request.url, bytes)
    : { url: request.url, body: bytes.byteLength ? bytes : null };
  const item = target && itemId !== undefined ? { resource: target.resource, id: itemId } : undefined;
  const itemHref = item && itemUrl(item.resource, item.id);
  // One item's writes are one group, whichever URL a create went to.
  const group = groupOf(itemHref ?? url, context.fallbackUrl);
  let keyHeader = request.headers.get('idempotency-key') ?? `"${adopted?.key ?? crypto.randomUUID()}"`;
  // The live request is sent as the app made it; only what is stored is redacted.
  const live = [...request.headers].filter(([name]) => name !== 'idempotency-key');
  const redact = new Set([...(queue.redactHeaders ?? []).map((h) => h.toLowerCase()), ...(queue.storeCredentials ? [] : CREDENTIAL_HEADERS)]);
  const borrows = live.filter(([name]) => CREDENTIAL_HEADERS.includes(name) && redact.has(name) && name !== 'cookie').map(([name]) => name);
  const liveTimeoutMs = queue.networkTimeoutSeconds ? queue.networkTimeoutSeconds * 1000 : DEFAULT_LIVE_TIMEOUT_MS;
  const policy: ReplayPolicy = {
    maxAttempts: queue.maxAttempts,
    ttlMs: queue.ttlSeconds && queue.ttlSeconds * 1000,
    timeoutMs: queue.networkTimeoutSeconds ? liveTimeoutMs : DEFAULT_REPLAY_TIMEOUT_MS,
    retry: queue.retryStatuses ?? [],
    conflict: queue.conflictStatuses ?? [409, 412],
    onConflict: queue.conflict,
    updatedAtField: target?.resource.spec.updatedAtField,
  };
  // Conflict detection: a queued change to a cached item is sent with
  // If-Match, unless the app set its own precondition.
  const detect =
    item && target!.id !== undefined && queue.detect !== 'none' && request.method !== 'POST' && !request.headers.has('if-match') && !request.headers.has('if-unmodified-since');
  const maxBodyBytes = queue.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const size = body?.byteLength ?? 0;

  /**
   * `failed`: the network just failed this write (its status, if the server
   * answered), so its first replay waits a backoff step (or the server's
   * Retry-After); one queued behind its group goes as soon as its turn comes.
   * `record`: its live send's record, marked queued in the same commit.
   */
  const putInOutbox = async (reason: string, failed?: { status?: number; retryAfter?: string | null }, behind?: boolean, record?: string): Promise<Response> => {
    if (size > maxBodyBytes) return notQueued(request, 413, `its body (${size} bytes) is over maxBodyBytes (${maxBodyBytes})`);
    const now = Date.now();
    const wait = failed ? clampRetryAfter(retryAfterMs(failed.retryAfter ?? null, now)) : 0;
    // The cached item, read once: its ETag for If-Match, its body for the answer.
    const cached = itemHref && request.method !== 'POST' ? await context.cached(itemHref).catch(() => undefined) : undefined;
    // Behind other writes to the item, the version this change applies to is
    // the one the write before it makes: its ETag is known only at replay.
    const etag = detect && !behind ? strongEtag(cached) : undefined;
    const headers = live.filter(([name]) => !redact.has(name));
    headers.push(['idempotency-key', keyHeader]);
    if (etag) headers.push(['if-match', etag]);
    const entry: OutboxEntry = {
      id: crypto.randomUUID(),
      key: keyHeader.replace(/^"|"$/g, ''),
      group,
      priority: priorityOf(spec, request),
      method: request.method,
      url,
      headers,
      borrows: borrows.length ? borrows : undefined,
      credentials: request.credentials,
      policy,
      state: 'pending',
      createdAt: adopted?.createdAt ?? now,
      attempts: 0,
      nextAttemptAt: now + wait,
      leaseUntil: 0,
      lastError: reason,
      lastStatus: failed?.status,
      bodyBytes: size,
      resource: target?.resource.name,
      itemId,
      tempId,
      chained: (detect && behind) || undefined,
      form: request.mode === 'navigate' || undefined,
    };
    // Without a live send's record, its fingerprint lets a copy of it be recognised (copies.ts).
    const fingerprint = record || adopted ? undefined : await fingerprintOf(context.clientId || request.referrer, request.method, url, body);
    let copyOf: string | undefined;
    try {
      copyOf = await enqueue(entry, body, epoch, record, fingerprint);
    } catch (error) {
      const name = (error as DOMException)?.name;
      if (name === 'QuotaExceededError') return notQueued(request, 507, 'storage is full (writes queued before it are kept)');
      // Cleared (log-out) while it was on its way: it is not saved, and the page is told so.
      if (name === 'AbortError') return Response.error();
      throw error;
    }
    // A copy of a write a stopped instance committed: answered as that entry.
    if (copyOf) entry.id = copyOf;
    // Committed: from here on the page gets its 202, whatever else fails (an
    // app that saw an error would retry, under a new key).
    else {
      broadcast('queued', { entry: toSummary(entry) });
      try {
        context.onQueued(entry);
      } catch {}
    }
    let representation: unknown;
    try {
      representation = item && (await representationOf(request.method, item, value, cached));
    } catch {}
    return accepted(entry, request, context.fallbackUrl, representation);
  };

  /**
   * The optimistic answer for a declared resource: what the item is now,
   * locally. `base`: the cached item; an app that only ever read the list
   * finds the item in the cached collection instead.
   */
  const representationOf = async (method: string, at: { resource: Resource; id: string }, sent: unknown, base?: Response) => {
    if (method === 'DELETE') return null;
    if (method === 'POST') return overlayItem(undefined, at.id, [{ method, id: at.id, body: sent }], at.resource);
    const json = async (response?: Response): Promise<unknown> => (response?.ok ? response.json().catch(() => undefined) : undefined);
    let value = await json(base);
    if (value === undefined) {
      const list = itemsAt(await json(await context.cached(at.resource.origin + at.resource.spec.collection)), at.resource.spec.itemsPath);
      value = Array.isArray(list) ? list.find((item) => isObject(item) && item[at.resource.idField] != null && String(item[at.resource.idField]) === at.id) : undefined;
    }
    return overlayItem(value, at.id, await localWrites(at.resource.name, group), at.resource);
  };

  if (adopted) return inTurn(group, () => putInOutbox(adopted.reason, undefined, true));
  return inTurn(group, async () => {
    let busy = (await groupIsBusy(group)) || (await namesLocalId(url));
    // Too big to be queued: it may go live only in order, once its group has drained.
    if (busy && size > maxBodyBytes) busy = !(await context.drained(group, liveTimeoutMs));
    if (busy) return putInOutbox('behind earlier writes to its resource', undefined, true);
    const fingerprint = await fingerprintOf(context.clientId || request.referrer, request.method, url, body);
    const start = await startWhenFree(group, fingerprint, keyHeader, liveTimeoutMs);
    // A copy of a write another instance was sending: the same key, and the same entry if it was queued.
    if (start.key && !request.headers.has('idempotency-key')) keyHeader = start.key;
    if ('queued' in start) return accepted({ id: start.queued } as OutboxEntry, request, context.fallbackUrl);
    if ('busy' in start) return putInOutbox('behind earlier writes to its resource', undefined, true);
    const record = recordKey(group, fingerprint);
    try {
      return await sendLive(record);
    } finally {
      void endLiveSend(record).catch(() => {});
    }
  });

  async function sendLive(record: string): Promise<Response> {
    let response: Response;
    try {
      response = await fetchWithin(
        context.send,
        url,
        {
          method: request.method,
          headers: [...live, ['idempotency-key', keyHeader]],
          body,
          credentials: request.credentials,
          // A form post's redirect is the browser's to follow.
          redirect: request.mode === 'navigate' ? 'manual' : request.redirect,
        },
        liveTimeoutMs,
      );
    } catch (error) {
      return putInOutbox(`${(error as Error).name}: ${(error as Error).message}`, {}, false, record);
    }
    if (isRetryable(response.status, policy))
      return putInOutbox(`HTTP ${response.status}`, { status: response.status, retryAfter: response.headers.get('retry-after') }, false, record);
    if (response.ok) void context.onNetworkSuccess(item, response);
    return response;
  }
}
