/**
 * The route manifest: the JSON an app writes (`offline.manifest.json`) and the
 * normalised form the worker runs on. The JSON names are the contract
 * (DESIGN.md, "The route manifest"): fields may be added, these names stay.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type WriteMethod = Exclude<HttpMethod, 'GET'>;

export type CacheStrategyName = 'network-first' | 'stale-while-revalidate' | 'cache-first' | 'network-only';
export type PriorityName = 'high' | 'normal' | 'low';
export type ConflictPolicy = 'manual' | 'server-wins' | 'client-wins' | 'newest-wins';

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
  conflict?: ConflictPolicy;
  detect?: 'etag' | 'none';
  retryStatuses?: number[];
  conflictStatuses?: number[];
  /** Headers never stored with a queued write (the live request keeps them). */
  redactHeaders?: string[];
  /**
   * Store `Authorization` and `Proxy-Authorization` with queued writes. By
   * default they are not: a replay borrows the app's latest credentials.
   * @default false
   */
  storeCredentials?: boolean;
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
  ids?: 'client-uuid' | 'server';
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
  version: 1;
  routes: RouteSpec[];
  resources?: Record<string, ResourceSpec>;
  changes?: ChangesSpec;
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

export type ValidationResult =
  | { ok: true; manifest: Manifest; issues: [] }
  | { ok: false; manifest?: undefined; issues: ManifestIssue[] };
