/**
 * The route manifest: the JSON an app writes (`offline.manifest.json`) and the
 * normalised form the worker runs on. The JSON names are the contract
 * (DESIGN.md, "The route manifest"): fields may be added, these names stay.
 *
 * Each choice among names is one list here; the types, the validator, the
 * JSON Schema and the worker's implementation tables all derive from it, so
 * a name is written once (STYLE.md, habit 14).
 */

export const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const HTTP_METHODS = ['GET', ...WRITE_METHODS] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type WriteMethod = (typeof WRITE_METHODS)[number];

/** How a route answers a GET; the first is the one error messages suggest. */
export const CACHE_STRATEGIES = ['network-first', 'stale-while-revalidate', 'cache-first', 'network-only', 'cache-only'] as const;
export type CacheStrategyName = (typeof CACHE_STRATEGIES)[number];
/** The strategies that wait for the network: the only ones `networkTimeoutSeconds` applies to (cache-only never fetches). */
export const NETWORK_TIMEOUT_STRATEGIES = ['network-first', 'network-only'] as const satisfies readonly CacheStrategyName[];
/** The strategies that never answer from the cache: nothing precached for their routes would be used. */
export const UNCACHED_STRATEGIES = ['network-only'] as const satisfies readonly CacheStrategyName[];

export const PRIORITY_NAMES = ['high', 'normal', 'low'] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];

/** What happens to a queued write the server answers 409 or 412; `manual` is the default. */
export const CONFLICT_POLICIES = ['manual', 'server-wins', 'client-wins', 'newest-wins'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/** Whether a queued write carries `If-Match` with the cached ETag; `etag` is the default. */
export const CONFLICT_DETECTIONS = ['etag', 'none'] as const;
export type ConflictDetection = (typeof CONFLICT_DETECTIONS)[number];

/** Who makes a new item's id; `client-uuid` is the default. */
export const ID_SOURCES = ['client-uuid', 'server'] as const;
export type IdSource = (typeof ID_SOURCES)[number];

export interface CacheOptions {
  strategy: CacheStrategyName;
  /** network-first and network-only: fall back (or fail) after this long. */
  networkTimeoutSeconds?: number;
  maxEntries?: number;
  maxAgeSeconds?: number;
  /** Statuses worth storing. @default every 2xx but 206 */
  statuses?: number[];
  /** Store `Cache-Control: private` responses too. @default false */
  private?: boolean;
  /** Cache name suffix. @default the route's `match` */
  name?: string;
}

export interface QueueOptions {
  /** `high`, `normal`, `low`, or 0 (last) to 9 (first). @default "normal" */
  priority?: PriorityName | number;
  maxAttempts?: number;
  ttlSeconds?: number;
  networkTimeoutSeconds?: number;
  /** @default "manual" */
  conflict?: ConflictPolicy;
  /** @default "etag" */
  detect?: ConflictDetection;
  retryStatuses?: number[];
  /** @default [409, 412] */
  conflictStatuses?: number[];
  /** Headers never stored with a queued write (the live request keeps them). */
  redactHeaders?: string[];
  /**
   * Store `Authorization` and `Proxy-Authorization` with queued writes. By
   * default they are not: a replay borrows the app's latest credentials.
   * @default false
   */
  storeCredentials?: boolean;
  /** @default 5242880 (5 MiB) */
  maxBodyBytes?: number;
}

export interface RouteSpec {
  /** A URLPattern-style path: `/api/todos/:id`, `/assets/*`. */
  match: string;
  /** Another origin this route applies to (`https://api.example.com`); same-origin when absent. */
  origin?: string;
  /** @default ["GET"] */
  methods?: HttpMethod[];
  cache?: CacheOptions;
  queue?: QueueOptions;
  /** A key of `resources`. */
  resource?: string;
}

export interface ResourceSpec {
  collection: string;
  item: string;
  /** @default "id" */
  idField?: string;
  /** Dot path of the array inside a wrapped collection (`"data.items"`). */
  itemsPath?: string;
  /** @default "client-uuid" */
  ids?: IdSource;
  updatedAtField?: string;
  pendingField?: string;
}

export interface ChangesSpec {
  stream?: string;
  websocket?: string;
  /** Must hold `{cursor}`. */
  since?: string;
}

export interface Manifest {
  /** The manifest's JSON Schema, for editors; the worker ignores it. */
  $schema?: string;
  version: 1;
  routes: RouteSpec[];
  resources?: Record<string, ResourceSpec>;
  changes?: ChangesSpec;
  /**
   * Same-origin URLs (`/`, `/app.css?v=3`) the worker stores at install, so
   * they answer offline before any page has asked for them. Each must be
   * served by a GET route that answers from the cache (not network-only).
   */
  precache?: string[];
  /**
   * Names of workbox-background-sync queues (an app's earlier Workbox worker)
   * whose entries the worker moves into the outbox on activation.
   */
  workboxQueues?: string[];
}

/** One problem found in a manifest, located by the path of the field. */
export interface ManifestIssue {
  /** `routes[2].queue.priority`; empty for the document itself. */
  path: string;
  /** Stable kind of problem, for tests and tools. */
  code: 'json-syntax' | 'wrong-type' | 'bad-value' | 'missing-field' | 'unknown-field' | 'unknown-reference';
  /** What was expected and what was found, or how to fix it. */
  message: string;
}

export type ValidationResult = { ok: true; manifest: Manifest; issues: [] } | { ok: false; manifest?: undefined; issues: ManifestIssue[] };
