/**
 * An in-memory Cache Storage (https://w3c.github.io/ServiceWorker/#cache-objects)
 * on Node's own Request/Response, so the worker's real caching code runs in
 * integration tests with the matching rules a browser applies.
 *
 * Followed from the spec: keys compared by URL without fragment; GET only
 * unless `ignoreMethod`; `ignoreSearch`; Vary matching unless `ignoreVary`;
 * `put` rejects non-GET, non-http(s), 206 and `Vary: *` with a TypeError,
 * reads the caller's body to the end (so, as in browsers, the response given
 * to `put` is consumed: put a clone if you still need it) and replaces the
 * entries its request matches, the new one going last in `keys()` order;
 * every `match` returns a new Response; `addAll` is all-or-nothing.
 *
 * Not emulated: opaque and error responses (Node's fetch never makes the
 * first; the second cannot be stored), quotas, and a response's `type`
 * (a cached response comes back as 'default', its `url` and `redirected` kept).
 *
 * Inside an emulated worker scope (sw-scope.ts), a worker instance that was
 * stopped (killed, or stopped while idle) has every call rejected with an
 * InvalidStateError, also a put whose body it was still reading: a stopped
 * worker's late code must not change what the next instance finds.
 */

/** Set by sw-scope.ts while a scope is installed: throws when the caller is a stopped worker instance. */
const CALLER_GUARD = Symbol.for('offline-outbox.test.sw-scope.caller-guard');

function checkCaller(): void {
  const guard: unknown = Reflect.get(globalThis, CALLER_GUARD);
  if (typeof guard === 'function') guard();
}

interface StoredResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: ReadonlyArray<[string, string]>;
  readonly body: Uint8Array<ArrayBuffer> | null;
  readonly url: string;
  readonly redirected: boolean;
}

interface Entry {
  readonly request: Request;
  readonly response: StoredResponse;
}

/** Statuses whose responses cannot have a body (Fetch spec "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Turns a string or URL into a Request the way a worker would: relative to the
 * worker's location (the emulated scope puts one on globalThis).
 */
function toRequest(input: RequestInfo | URL): Request {
  if (input instanceof Request) return input;
  const base = (globalThis as { location?: { href: string } }).location?.href;
  let url: URL;
  try {
    url = new URL(String(input), base);
  } catch {
    throw new TypeError(`Invalid URL: ${String(input)}`);
  }
  return new Request(url);
}

function varyFields(headers: Headers | ReadonlyArray<[string, string]>): string[] {
  const value =
    headers instanceof Headers
      ? headers.get('vary')
      : headers
          .filter(([name]) => name.toLowerCase() === 'vary')
          .map(([, v]) => v)
          .join(',');
  if (!value) return [];
  return value
    .split(',')
    .map((field) => field.trim().toLowerCase())
    .filter(Boolean);
}

function comparableUrl(url: string, ignoreSearch: boolean): string {
  const parsed = new URL(url);
  parsed.hash = '';
  if (ignoreSearch) parsed.search = '';
  return parsed.href;
}

/** The spec's "request matches cached item". */
function matches(query: Request, entry: Entry, options: CacheQueryOptions = {}): boolean {
  if (!options.ignoreMethod && query.method !== 'GET') return false;
  const ignoreSearch = options.ignoreSearch ?? false;
  if (comparableUrl(query.url, ignoreSearch) !== comparableUrl(entry.request.url, ignoreSearch)) {
    return false;
  }
  if (options.ignoreVary) return true;
  for (const field of varyFields(entry.response.headers)) {
    if (field === '*') return false;
    if (query.headers.get(field) !== entry.request.headers.get(field)) return false;
  }
  return true;
}

function toResponse(stored: StoredResponse): Response {
  const body = NULL_BODY_STATUSES.has(stored.status) ? null : stored.body;
  const response = new Response(body, {
    status: stored.status,
    statusText: stored.statusText,
    headers: [...stored.headers],
  });
  // A constructed Response has an empty url; a cached one keeps the network's.
  if (stored.url) Object.defineProperty(response, 'url', { value: stored.url });
  if (stored.redirected) Object.defineProperty(response, 'redirected', { value: true });
  return response;
}

/** The checks `put` and `addAll` share; throws the TypeError a browser would. */
function assertStorable(request: Request, response: Response): void {
  const protocol = new URL(request.url).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new TypeError(`Cache: request scheme '${protocol}' is unsupported`);
  }
  if (request.method !== 'GET') throw new TypeError(`Cache: request method '${request.method}' is unsupported`);
  if (response.status === 206) throw new TypeError('Cache: partial response (status code 206) is unsupported');
  if (response.status === 0) throw new TypeError('Cache: opaque and error responses are not emulated');
  if (varyFields(response.headers).includes('*')) throw new TypeError("Cache: vary header contains '*'");
  if (response.bodyUsed || response.body?.locked) throw new TypeError('Cache: response body is already used');
}

async function store(response: Response): Promise<StoredResponse> {
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    // Reading the caller's body, not a clone's, is what consumes it as in browsers.
    body: response.body ? new Uint8Array(await response.arrayBuffer()) : null,
    url: response.url,
    redirected: response.redirected,
  };
}

export class MemoryCache implements Cache {
  #entries: Entry[] = [];

  async match(request: RequestInfo | URL, options?: CacheQueryOptions): Promise<Response | undefined> {
    return (await this.matchAll(request, options))[0];
  }

  async matchAll(request?: RequestInfo | URL, options?: CacheQueryOptions): Promise<ReadonlyArray<Response>> {
    checkCaller();
    return this.#query(request, options).map((entry) => toResponse(entry.response));
  }

  async keys(request?: RequestInfo | URL, options?: CacheQueryOptions): Promise<ReadonlyArray<Request>> {
    checkCaller();
    return this.#query(request, options).map((entry) => entry.request.clone());
  }

  async delete(request: RequestInfo | URL, options?: CacheQueryOptions): Promise<boolean> {
    checkCaller();
    const doomed = new Set(this.#query(request, options));
    this.#entries = this.#entries.filter((entry) => !doomed.has(entry));
    return doomed.size > 0;
  }

  async put(request: RequestInfo | URL, response: Response): Promise<void> {
    checkCaller();
    const inner = toRequest(request);
    assertStorable(inner, response);
    const stored = await store(response);
    this.#commit([{ request: inner.clone(), response: stored }]);
  }

  async add(request: RequestInfo | URL): Promise<void> {
    await this.addAll([request]);
  }

  async addAll(requests: Iterable<RequestInfo | URL>): Promise<void> {
    checkCaller();
    const inners = [...requests].map(toRequest);
    for (const inner of inners) {
      const protocol = new URL(inner.url).protocol;
      if ((protocol !== 'http:' && protocol !== 'https:') || inner.method !== 'GET') {
        throw new TypeError(`Cache.addAll: cannot add ${inner.method} ${inner.url}`);
      }
    }
    // Fetched through the global at call time, so MSW (or a test stub) sees it.
    const responses = await Promise.all(inners.map((inner) => fetch(inner)));
    const entries: Entry[] = [];
    for (const [index, response] of responses.entries()) {
      const inner = inners[index] as Request;
      if (!response.ok) throw new TypeError(`Cache.addAll: ${inner.url} answered ${response.status}`);
      assertStorable(inner, response);
      entries.push({ request: inner.clone(), response: await store(response) });
    }
    this.#commit(entries);
  }

  /** The spec's "batch cache operations" for puts: atomic, replace-then-append. */
  #commit(entries: Entry[]): void {
    // Again: the caller may have been stopped while the bodies were read.
    checkCaller();
    entries.forEach((entry, index) => {
      if (entries.slice(0, index).some((earlier) => matches(entry.request, earlier))) {
        throw new DOMException(`Cache: duplicate request ${entry.request.url} in one batch`, 'InvalidStateError');
      }
    });
    for (const entry of entries) {
      this.#entries = this.#entries.filter((existing) => !matches(entry.request, existing));
      this.#entries.push(entry);
    }
  }

  #query(request: RequestInfo | URL | undefined, options?: CacheQueryOptions): Entry[] {
    if (request === undefined) return [...this.#entries];
    const query = toRequest(request);
    return this.#entries.filter((entry) => matches(query, entry, options));
  }
}

export class MemoryCacheStorage implements CacheStorage {
  readonly #caches = new Map<string, MemoryCache>();

  async open(cacheName: string): Promise<Cache> {
    checkCaller();
    const name = String(cacheName);
    let cache = this.#caches.get(name);
    if (!cache) {
      cache = new MemoryCache();
      this.#caches.set(name, cache);
    }
    return cache;
  }

  async has(cacheName: string): Promise<boolean> {
    checkCaller();
    return this.#caches.has(String(cacheName));
  }

  async delete(cacheName: string): Promise<boolean> {
    checkCaller();
    return this.#caches.delete(String(cacheName));
  }

  async keys(): Promise<string[]> {
    checkCaller();
    return [...this.#caches.keys()];
  }

  async match(request: RequestInfo | URL, options?: MultiCacheQueryOptions): Promise<Response | undefined> {
    checkCaller();
    if (options?.cacheName !== undefined) {
      return this.#caches.get(String(options.cacheName))?.match(request, options);
    }
    for (const cache of this.#caches.values()) {
      const response = await cache.match(request, options);
      if (response) return response;
    }
    return undefined;
  }
}
