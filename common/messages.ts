/**
 * The page ↔ worker protocol: one typed module imported by both `sw/` and
 * `client/`.
 *
 * - Events go out from the worker on the BroadcastChannel `offline-outbox`, so
 *   every tab of the origin hears them, controlled or not (a worker that
 *   failed to install controls no page, yet its errors must reach one).
 * - Requests go from a page to the worker with `postMessage` and a
 *   MessagePort for the single reply; the page gives each a timeout.
 *
 * Every message carries `v`; each side ignores other versions.
 */
export const CHANNEL_NAME = 'offline-outbox';
export const PROTOCOL_VERSION = 1;

export type EntryState = 'pending' | 'inflight' | 'conflict' | 'auth' | 'dead';

/** What pages may see of a queued write: metadata, never the body. */
export interface EntrySummary {
  id: string;
  /** The Idempotency-Key value sent with it (without quotes). */
  key: string;
  group: string;
  priority: number;
  method: string;
  url: string;
  state: EntryState;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
  /** The last HTTP status the server answered, if any. */
  lastStatus?: number;
  bodyBytes: number;
  /** The declared resource it writes to, and the item's id (a create's local id until the server assigns one). */
  resource?: string;
  itemId?: string;
  /** A conflicted write: the server's version of the item when the conflict was found (null: none, or unreadable). */
  server?: unknown;
  /** A conflicted write: its own body, parsed (null when not JSON), so a page can show both versions. */
  local?: unknown;
}

/** How a page settles a conflicted write. */
export interface Resolution {
  /** `retry`: send it again unchanged; `discard`: drop it (the server's version stays); `replace`: send `body` instead, against the server's current version. */
  action: 'retry' | 'discard' | 'replace';
  /** For `replace`: the new body, JSON (or a string sent as it is). */
  body?: unknown;
}

/** A cache route whose answers the worker refuses to store because of the server's headers: they will not load offline. */
export interface NotCached {
  /** The route's `match` (its origin first, for a cross-origin route). */
  route: string;
  /** The last URL whose answer was refused. */
  url: string;
  /** The header that refused it: `Cache-Control: no-store`, `Cache-Control: private` or `Vary: *`. */
  header: string;
  /** What to change on the server (or in the manifest). */
  fix: string;
}

export interface OutboxStatus {
  pending: number;
  inFlight: number;
  conflicts: number;
  auth: number;
  dead: number;
  online: boolean;
  /** When a replay last delivered a write (ms since epoch), or null. */
  lastSyncAt: number | null;
  /** The oldest entry's creation time, or null: Safari may evict storage after 7 days without a visit. */
  oldestPendingAt: number | null;
  /** Cache routes whose answers are not stored, until one is (see NotCached). */
  notCached: NotCached[];
}

export interface OutboxEventMap {
  /** A new worker refused its manifest; the previous worker (if any) keeps serving. */
  'install-failed': { manifestUrl: string; errors: string[] };
  /** A cache route refused an answer for its headers (once per route and header; status().notCached lists them). */
  'not-cached': NotCached;
  queued: { entry: EntrySummary };
  replayed: { id: string; status: number };
  retrying: { id: string; attempts: number; nextAttemptAt: number; error: string };
  /**
   * A write met a conflict (409/412). `resolution` says what the route's
   * policy did: `parked` (manual: it waits for resolve()), `server-wins`
   * (dropped), `client-wins` (resent without preconditions).
   */
  conflict: { id: string; status: number; resolution: 'parked' | 'server-wins' | 'client-wins'; local: unknown; server: unknown };
  /** Cached responses the worker refreshed (after a write was delivered, or a change notice). */
  'cache-updated': { urls: string[] };
  dead: { id: string; reason: string };
  'auth-required': { id: string; status: number };
  'sync-start': { total: number };
  'sync-progress': { done: number; total: number };
  'sync-end': { done: number; remaining: number };
  status: OutboxStatus;
}

export type OutboxEventType = keyof OutboxEventMap;
export type OutboxEvent<K extends OutboxEventType = OutboxEventType> = {
  [T in K]: { type: T; v: typeof PROTOCOL_VERSION } & OutboxEventMap[T];
}[K];

/** Requests a page sends to the worker, with their replies. */
export interface OutboxRequestMap {
  status: { args: Record<string, never>; reply: OutboxStatus };
  entries: { args: Record<string, never>; reply: EntrySummary[] };
  'sync-now': { args: Record<string, never>; reply: OutboxStatus };
  retry: { args: { id: string }; reply: boolean };
  discard: { args: { id: string }; reply: boolean };
  resolve: { args: { id: string } & Resolution; reply: boolean };
  /** Log-out: empties the outbox, the overlay, the caches and the feed cursor. */
  clear: { args: Record<string, never>; reply: boolean };
  /** Change notices from the feed (register.js forwards them); the worker checks each. */
  notices: { args: { notices: unknown[] }; reply: { accepted: number; ignored: number } };
  /** The feed (re)connected: fetch what was missed since the stored cursor. */
  'catch-up': { args: Record<string, never>; reply: boolean };
}

export type OutboxRequestType = keyof OutboxRequestMap;

export type OutboxRequest<K extends OutboxRequestType = OutboxRequestType> = {
  [T in K]: { kind: 'outbox-request'; v: typeof PROTOCOL_VERSION; op: T; args: OutboxRequestMap[T]['args'] };
}[K];

/** The reply, posted on the request's MessagePort; errors cross as plain data. */
export type OutboxReply<K extends OutboxRequestType = OutboxRequestType> =
  | { ok: true; value: OutboxRequestMap[K]['reply'] }
  | { ok: false; error: { code: string; message: string } };

export function isOutboxEvent(data: unknown): data is OutboxEvent {
  return typeof data === 'object' && data !== null && (data as { v?: unknown }).v === PROTOCOL_VERSION && typeof (data as { type?: unknown }).type === 'string';
}

export function isOutboxRequest(data: unknown): data is OutboxRequest {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'outbox-request' && (data as { v?: unknown }).v === PROTOCOL_VERSION;
}
