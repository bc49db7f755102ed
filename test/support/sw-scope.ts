/**
 * An emulated ServiceWorkerGlobalScope on Node's globalThis, so the REAL worker
 * modules (and Workbox under them) run in integration tests, driven the way a
 * browser drives a worker: install, activate, fetch, sync and message events.
 *
 *   const scope = await startWorker({ scriptUrl }, () => import('../../sw/sw.ts'));
 *   await scope.install();
 *   await scope.activate();
 *   const { handled, response, done } = await scope.fetch('/api/items');
 *   await done;                        // the worker's waitUntil work
 *   const next = await restartWorker(scope, () => import('../../sw/sw.ts'));
 *
 * How a worker stops (`StopMode`, per call or as `ScopeOptions.stop`):
 * - 'drain' (the default of teardown and restartWorker): kind, as before:
 *   waits up to 2 s for outstanding waitUntil work, gives unheld work 25 ms,
 *   then stops the instance. In-flight fetches are not aborted, but what
 *   its code does once they answer is refused, as below.
 * - 'kill' (`scope.kill()`, `killWorker()`): what a browser (or DevTools'
 *   "stop", or a crash) does: at once, every fetch the instance has in flight
 *   is aborted (the server sees the abort, the worker's fetch rejects with
 *   AbortError), its timers are cleared, its IndexedDB transactions that
 *   have not begun to commit are aborted (without telling its listeners: a
 *   killed worker hears nothing) and its connections force-closed, its
 *   BroadcastChannels closed; waitUntil work is dropped, not waited for
 *   (`done` resolves to [AbortError], a pending respondWith fails the page's
 *   fetch with a TypeError, a pending ask() rejects, install/sync reject).
 * - 'when-idle' (`scope.stopWhenIdle()`, `scope.stopIfIdle()`): what a browser
 *   does to an idle worker: once no event is pending (no respondWith or
 *   waitUntil outstanding; at most 2 s, as a browser ends an event that
 *   outlives its limit) the instance is stopped as by 'kill', so work the
 *   worker started outside waitUntil is abandoned mid-way.
 *
 * A stopped instance's code may still run (an awaited fetch rejects, a
 * closed connection fires its events): JavaScript cannot be halted from
 * outside. Whatever it does then fails or is dropped, also under a later
 * scope's globals, because every global the worker touches asks which
 * instance is calling (see "Which instance is calling" below): fetch rejects
 * with AbortError, setTimeout/setInterval return timers that never fire,
 * indexedDB.open gets a connection that is already closed (an upgrade is
 * aborted), Cache Storage rejects with InvalidStateError, BroadcastChannels
 * are born closed, postMessage to a page is dropped, addEventListener does
 * nothing. Only after the last instance stopped are the globals put back;
 * a kill first waits 20 ms, so the stopped code's rejections run against
 * the refusing globals, not Node's own (code resumed later still would reach
 * Node's own if no scope is installed by then: keep late work out of tests,
 * or start the next scope, as killWorker does, before releasing it).
 *
 * Two instances of one registration at once (an update racing a replay):
 * `startNextWorker(scope, importWorker)` evaluates the worker again, in a
 * fresh vitest module registry, beside the running one. Both share the
 * registration, clients, Cache Storage and IndexedDB (one IDBFactory); each
 * has its own module state, listeners, location, fetches and timers.
 *
 * Only one set of globals (one registration) can be installed at a time;
 * `teardown()` of its last instance puts globalThis back.
 * Import the worker (and anything that imports Workbox) only after the scope
 * exists: Workbox's dev logger touches `self` when its module is evaluated.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { vi } from 'vitest';
import {
  IDBCursor,
  IDBCursorWithValue,
  IDBDatabase,
  IDBFactory,
  IDBIndex,
  IDBKeyRange,
  IDBObjectStore,
  IDBOpenDBRequest,
  IDBRequest,
  IDBTransaction,
  IDBVersionChangeEvent,
  forceCloseDatabase,
} from 'fake-indexeddb';
import { MemoryCacheStorage } from './cache-storage.js';

// ---------------------------------------------------------------------------
// Events

/** An event's extend-lifetime promises and pending count, as the spec keeps them. */
interface Lifetime {
  readonly promises: Promise<unknown>[];
  pending: number;
}

let lifetimeOf: (event: EmulatedExtendableEvent) => Lifetime;
let isDispatching: (event: EmulatedExtendableEvent) => boolean;
/**
 * Dispatches with the spec's dispatch flag set. Node's `eventPhase` cannot
 * stand in for that flag: from the second listener on it reads NONE (Node 20).
 */
let dispatchFlagged: (target: EventTarget, event: EmulatedExtendableEvent) => void;

function invalidState(message: string): DOMException {
  return new DOMException(message, 'InvalidStateError');
}

export class EmulatedExtendableEvent extends Event implements ExtendableEvent {
  readonly #lifetime: Lifetime = { promises: [], pending: 0 };
  #dispatching = false;

  static {
    lifetimeOf = (event) => event.#lifetime;
    isDispatching = (event) => event.#dispatching;
    dispatchFlagged = (target, event) => {
      event.#dispatching = true;
      try {
        target.dispatchEvent(event);
      } finally {
        event.#dispatching = false;
      }
    };
  }

  waitUntil(promise: Promise<unknown>): void {
    const lifetime = this.#lifetime;
    if (!this.#dispatching && lifetime.pending === 0) {
      throw invalidState('waitUntil: the event handler has finished and no promise is pending');
    }
    const extension = Promise.resolve(promise);
    lifetime.pending += 1;
    // The spec releases in a microtask, so waitUntil from a .then() of the
    // last pending promise is still allowed.
    const release = () =>
      queueMicrotask(() => {
        lifetime.pending -= 1;
      });
    extension.then(release, release);
    lifetime.promises.push(extension);
  }
}

/**
 * Resolves once every extend-lifetime promise (including ones added while
 * waiting) has settled, to the reasons of those that rejected.
 */
async function lifetimeSettled(event: EmulatedExtendableEvent): Promise<unknown[]> {
  const { promises } = lifetimeOf(event);
  const reasons: unknown[] = [];
  for (let seen = 0; seen < promises.length; ) {
    const batch = promises.slice(seen);
    seen = promises.length;
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === 'rejected') reasons.push(result.reason);
    }
  }
  return reasons;
}

export interface EmulatedFetchEventInit extends EventInit {
  request: Request;
  clientId?: string;
  resultingClientId?: string;
  replacesClientId?: string;
}

let responseOf: (event: EmulatedFetchEvent) => Promise<Response> | undefined;
let dispatchFinished: (event: EmulatedFetchEvent) => void;

export class EmulatedFetchEvent extends EmulatedExtendableEvent implements FetchEvent {
  readonly request: Request;
  readonly clientId: string;
  readonly resultingClientId: string;
  readonly replacesClientId: string;
  /** Navigation preload is not emulated: always resolves to undefined. */
  readonly preloadResponse: Promise<undefined> = Promise.resolve(undefined);
  /** Settles with respondWith's promise, or resolves after a dispatch that did not call it. */
  readonly handled: Promise<undefined>;
  #response: Promise<Response> | undefined;
  #settleHandled: (outcome: Promise<unknown> | undefined) => void = () => {};

  static {
    responseOf = (event) => event.#response;
    dispatchFinished = (event) => {
      if (!event.#response) event.#settleHandled(undefined);
    };
  }

  constructor(type: string, init: EmulatedFetchEventInit) {
    super(type, { cancelable: true, ...init });
    this.request = init.request;
    this.clientId = init.clientId ?? '';
    this.resultingClientId = init.resultingClientId ?? '';
    this.replacesClientId = init.replacesClientId ?? '';
    this.handled = new Promise<undefined>((resolve, reject) => {
      this.#settleHandled = (outcome) => {
        if (!outcome) resolve(undefined);
        else
          outcome.then(
            () => resolve(undefined),
            () => reject(new DOMException('respondWith failed', 'NetworkError')),
          );
      };
    });
    this.handled.catch(() => {});
  }

  respondWith(response: Response | PromiseLike<Response>): void {
    if (!isDispatching(this)) throw invalidState('respondWith: must be called synchronously during dispatch');
    if (this.#response) throw invalidState('respondWith: already called');
    const checked = Promise.resolve(response).then((value: unknown) => {
      if (!(value instanceof Response)) throw new TypeError('respondWith: the promise did not resolve to a Response');
      if (value.bodyUsed || value.body?.locked) throw new TypeError('respondWith: the Response body is already used');
      return value;
    });
    this.#response = checked;
    this.#settleHandled(checked);
    this.waitUntil(checked);
    // As in browsers: the first respondWith wins, later fetch listeners don't run.
    this.stopImmediatePropagation();
  }
}

export interface EmulatedSyncEventInit extends EventInit {
  tag: string;
  lastChance?: boolean;
}

export class EmulatedSyncEvent extends EmulatedExtendableEvent implements SyncEvent {
  readonly tag: string;
  readonly lastChance: boolean;

  constructor(type: string, init: EmulatedSyncEventInit) {
    super(type, init);
    this.tag = init.tag;
    this.lastChance = init.lastChance ?? false;
  }
}

export interface EmulatedMessageEventInit extends EventInit {
  data?: unknown;
  origin?: string;
  lastEventId?: string;
  source?: Client | MessagePort | null;
  ports?: MessagePort[];
}

export class EmulatedMessageEvent extends EmulatedExtendableEvent implements ExtendableMessageEvent {
  readonly data: unknown;
  readonly origin: string;
  readonly lastEventId: string;
  readonly source: Client | MessagePort | null;
  readonly ports: ReadonlyArray<MessagePort>;

  constructor(type: string, init: EmulatedMessageEventInit = {}) {
    super(type, init);
    this.data = init.data ?? null;
    this.origin = init.origin ?? '';
    this.lastEventId = init.lastEventId ?? '';
    this.source = init.source ?? null;
    this.ports = Object.freeze([...(init.ports ?? [])]);
  }
}

// ---------------------------------------------------------------------------
// Requests

export interface EmulatedRequestInit extends Omit<RequestInit, 'mode'> {
  /** Any RequestMode, including 'navigate' which Node's Request refuses. */
  mode?: RequestMode;
  destination?: RequestDestination;
}

const NAVIGATION_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/**
 * A Node Request that can present `mode: 'navigate'` and any `destination`.
 * Undici refuses to construct either, so the real (internal) mode of a
 * navigation is 'same-origin' — the mode the Fetch spec gives a navigation
 * request copied with an init — and only the getters say otherwise. Node's
 * fetch reads the internal state, so `fetch(event.request)` still works.
 */
export class EmulatedRequest extends Request {
  readonly #mode: RequestMode | undefined;
  readonly #destination: RequestDestination | undefined;

  constructor(input: RequestInfo | URL, init: EmulatedRequestInit = {}) {
    const { mode, destination, ...rest } = init;
    const navigate = mode === 'navigate';
    const realMode = navigate ? 'same-origin' : mode;
    super(input, realMode === undefined ? rest : { ...rest, mode: realMode });
    this.#mode = mode ?? (input instanceof Request ? input.mode : undefined);
    this.#destination = destination ?? (input instanceof Request && input.destination ? input.destination : undefined) ?? (navigate ? 'document' : undefined);
    if (navigate && !this.headers.has('accept')) this.headers.set('accept', NAVIGATION_ACCEPT);
  }

  override get mode(): RequestMode {
    return this.#mode ?? super.mode;
  }

  override get destination(): RequestDestination {
    return this.#destination ?? super.destination;
  }

  override clone(): Request {
    return new EmulatedRequest(super.clone(), { mode: this.mode, destination: this.destination });
  }
}

// ---------------------------------------------------------------------------
// Location, clients, registration

export class EmulatedWorkerLocation {
  readonly #url: URL;

  constructor(href: string) {
    this.#url = new URL(href);
  }

  get href(): string {
    return this.#url.href;
  }
  get origin(): string {
    return this.#url.origin;
  }
  get protocol(): string {
    return this.#url.protocol;
  }
  get host(): string {
    return this.#url.host;
  }
  get hostname(): string {
    return this.#url.hostname;
  }
  get port(): string {
    return this.#url.port;
  }
  get pathname(): string {
    return this.#url.pathname;
  }
  get search(): string {
    return this.#url.search;
  }
  get hash(): string {
    return this.#url.hash;
  }
  toString(): string {
    return this.#url.href;
  }
}

export interface WindowClientInit {
  url: string;
  id?: string;
  focused?: boolean;
  visibilityState?: DocumentVisibilityState;
  /** Whether this worker controls the page (matchAll() only sees those). Default true. */
  controlled?: boolean;
}

/** A page, as the worker sees it; records what the worker posts to it. */
export class EmulatedWindowClient implements Client {
  readonly type = 'window';
  readonly frameType = 'top-level';
  readonly id: string;
  url: string;
  focused: boolean;
  visibilityState: DocumentVisibilityState;
  controlled: boolean;
  /** Every message the worker posted, structured-cloned as postMessage does. */
  readonly messages: unknown[] = [];

  constructor(init: WindowClientInit) {
    this.id = init.id ?? crypto.randomUUID();
    this.url = init.url;
    this.focused = init.focused ?? false;
    this.visibilityState = init.visibilityState ?? 'visible';
    this.controlled = init.controlled ?? true;
  }

  postMessage(message: unknown): void {
    // A stopped instance's late code posts nothing.
    if (callerStopped()) return;
    this.messages.push(structuredClone(message));
  }

  async focus(): Promise<this> {
    this.focused = true;
    return this;
  }

  async navigate(url: string): Promise<this> {
    this.url = new URL(url, this.url).href;
    return this;
  }
}

type ClientType = 'window' | 'worker' | 'sharedworker' | 'all';

export class EmulatedClients implements Clients {
  readonly #all: EmulatedWindowClient[] = [];
  /** Windows the worker opened with openWindow(), in order. */
  readonly opened: EmulatedWindowClient[] = [];
  readonly #baseUrl: string;
  readonly #isActive: () => boolean;

  constructor(baseUrl: string, isActive: () => boolean) {
    this.#baseUrl = baseUrl;
    this.#isActive = isActive;
  }

  /** Test side: a page appears. */
  addWindow(init: WindowClientInit): EmulatedWindowClient {
    const client = new EmulatedWindowClient({ ...init, url: new URL(init.url, this.#baseUrl).href });
    this.#all.push(client);
    return client;
  }

  /** Test side: a page goes away. */
  removeWindow(client: EmulatedWindowClient): void {
    const index = this.#all.indexOf(client);
    if (index >= 0) this.#all.splice(index, 1);
  }

  async get(id: string): Promise<EmulatedWindowClient | undefined> {
    return this.#all.find((client) => client.id === id);
  }

  async matchAll(options: { includeUncontrolled?: boolean; type?: ClientType } = {}): Promise<EmulatedWindowClient[]> {
    const type = options.type ?? 'window';
    if (type !== 'window' && type !== 'all') return [];
    return this.#all.filter((client) => options.includeUncontrolled || client.controlled);
  }

  async claim(): Promise<void> {
    if (!this.#isActive()) throw invalidState('clients.claim: the worker is not active');
    for (const client of this.#all) client.controlled = true;
  }

  /** Browsers also demand a user gesture (notificationclick); not emulated. */
  async openWindow(url: string): Promise<EmulatedWindowClient> {
    const client = this.addWindow({ url, focused: true });
    this.opened.push(client);
    return client;
  }
}

/** Background Sync's registration.sync: a set of pending tags. */
export class EmulatedSyncManager implements SyncManager {
  readonly #tags = new Set<string>();
  /** Registrations per tag, to see a tag registered again while its event fires. */
  readonly #registered = new Map<string, number>();

  async register(tag: string): Promise<void> {
    this.#tags.add(String(tag));
    this.#registered.set(String(tag), this.registrations(String(tag)) + 1);
  }

  registrations(tag: string): number {
    return this.#registered.get(tag) ?? 0;
  }

  async getTags(): Promise<string[]> {
    return [...this.#tags];
  }

  /** What the browser does once a sync event for the tag succeeded or ran its last chance. */
  forget(tag: string): void {
    this.#tags.delete(tag);
  }
}

export type WorkerState = 'parsed' | 'installing' | 'installed' | 'activating' | 'activated' | 'redundant';

/** The worker as registration.installing/waiting/active show it. */
export class EmulatedServiceWorker {
  readonly scriptURL: string;
  state: WorkerState;

  constructor(scriptURL: string, state: WorkerState) {
    this.scriptURL = scriptURL;
    this.state = state;
  }
}

export class EmulatedRegistration {
  readonly scope: string;
  readonly sync = new EmulatedSyncManager();
  /** Its workers, oldest first: one, or two while an update installs beside the active one. */
  readonly #workers: EmulatedServiceWorker[] = [];

  constructor(scope: string, worker: EmulatedServiceWorker) {
    this.scope = scope;
    this.#workers.push(worker);
  }

  /** The harness adds the worker of an update (startNextWorker). */
  addWorker(worker: EmulatedServiceWorker): void {
    if (!this.#workers.includes(worker)) this.#workers.push(worker);
  }

  /** As the browser does once `worker` activates: the worker it replaces becomes redundant. */
  retireOthers(worker: EmulatedServiceWorker): void {
    for (const other of this.#workers) if (other !== worker && isActiveState(other.state)) other.state = 'redundant';
  }

  get installing(): EmulatedServiceWorker | null {
    return this.#newest((state) => state === 'installing');
  }

  get waiting(): EmulatedServiceWorker | null {
    return this.#newest((state) => state === 'installed');
  }

  get active(): EmulatedServiceWorker | null {
    return this.#newest(isActiveState);
  }

  async update(): Promise<void> {}

  async unregister(): Promise<boolean> {
    return true;
  }

  #newest(test: (state: WorkerState) => boolean): EmulatedServiceWorker | null {
    for (let index = this.#workers.length - 1; index >= 0; index -= 1) {
      const worker = this.#workers[index]!;
      if (test(worker.state)) return worker;
    }
    return null;
  }
}

const isActiveState = (state: WorkerState) => state === 'activating' || state === 'activated';

// ---------------------------------------------------------------------------
// globalThis patching

/** Sets globals and remembers what was there, to put it back. */
class GlobalPatch {
  readonly #saved = new Map<PropertyKey, PropertyDescriptor | undefined>();

  define(key: PropertyKey, descriptor: PropertyDescriptor): void {
    if (!this.#saved.has(key)) this.#saved.set(key, Reflect.getOwnPropertyDescriptor(globalThis, key));
    Reflect.defineProperty(globalThis, key, { configurable: true, enumerable: true, ...descriptor });
  }

  set(key: PropertyKey, value: unknown): void {
    this.define(key, { value, writable: true });
  }

  restore(): void {
    for (const [key, descriptor] of [...this.#saved].reverse()) {
      if (descriptor) Reflect.defineProperty(globalThis, key, descriptor);
      else Reflect.deleteProperty(globalThis, key);
    }
    this.#saved.clear();
  }
}

/** Where Node's fetch (undici) looks for the base URL of relative URLs. */
const UNDICI_GLOBAL_ORIGIN = Symbol.for('undici.globalOrigin.1');
const ACTIVE_SCOPE = Symbol.for('offline-outbox.test.sw-scope');
/** What MemoryCacheStorage calls to refuse a stopped instance (see cache-storage.ts). */
const CALLER_GUARD = Symbol.for('offline-outbox.test.sw-scope.caller-guard');
const HANDLER_EVENTS = ['install', 'activate', 'fetch', 'sync', 'message', 'messageerror'] as const;
const TEARDOWN_SETTLE_MS = 25;
const TEARDOWN_DRAIN_MS = 2000;
/** After an abrupt stop: time for the stopped code's rejections to run, under the refusing globals. */
const KILL_SETTLE_MS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Taken before any test fakes timers, so teardown's time limit stays real.
const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout, setInterval: realSetInterval, clearInterval: realClearInterval } = globalThis;
type Timer = ReturnType<typeof realSetTimeout>;

const stoppedError = (what = 'the service worker was stopped') => new DOMException(what, 'AbortError');

function forceCloseDb(db: IDBDatabase): void {
  // Forced, so the connection fires 'close': idb-keyval (loaded once per test
  // file, outside vi.resetModules) then drops its cached connection and
  // reopens with the next scope's indexedDB.
  // fake-indexeddb types its parameter as the IDBDatabase constructor by mistake.
  forceCloseDatabase(db as unknown as typeof IDBDatabase);
}

function forceClose(request: IDBOpenDBRequest): void {
  if (request.readyState === 'pending') {
    request.addEventListener('success', () => forceCloseDb(request.result));
  } else if (request.result) {
    forceCloseDb(request.result);
  }
}

/** fake-indexeddb's event targets keep their listeners in a public-by-accident array. */
interface FakeTarget {
  listeners?: { type: string }[];
  onabort?: unknown;
  onerror?: unknown;
  oncomplete?: unknown;
  onsuccess?: unknown;
}

/** Removes what a stopped worker listens to on an IDB object, so an abort it no longer runs to see stays unseen. */
function silence(target: unknown, keep: (listener: { type: string }, index: number) => boolean = () => false): void {
  const fake = target as FakeTarget;
  if (Array.isArray(fake.listeners)) fake.listeners = fake.listeners.filter(keep);
  fake.onabort = fake.onerror = fake.oncomplete = fake.onsuccess = null;
}

/**
 * As a terminated worker's are: transactions not yet committing are aborted
 * (nothing they wrote stays); one already committing lands, as it may in a
 * browser. The stopped code is not told: its request and transaction
 * listeners are removed first (in a browser it no longer runs; here its
 * promises stay pending rather than reject where nobody listens, as idb's
 * `tx.done` would). fake-indexeddb keeps a database's transactions, their
 * requests and listeners on internal fields; reaching them is the only way.
 */
function abortTransactions(request: IDBOpenDBRequest): void {
  if (request.readyState !== 'done' || !request.result) return;
  const db = request.result;
  const raw = (db as unknown as { _rawDatabase?: { transactions?: IDBTransaction[] } })._rawDatabase;
  for (const transaction of raw?.transactions ?? []) {
    if (transaction.db !== db) continue;
    const internal = transaction as unknown as {
      _state?: string;
      _requests?: { request: unknown }[];
      _abort?: (name: string | null) => void;
    };
    if (internal._state === 'committing' || internal._state === 'finished') continue;
    // The first three listeners are fake-indexeddb's own (FDBTransaction's constructor adds them).
    silence(transaction, (_, index) => index < 3);
    for (const { request: queued } of internal._requests ?? []) silence(queued);
    if (typeof internal._abort === 'function') {
      // A forced close aborts with an AbortError (IndexedDB 3.0, "close a database connection").
      internal._state = 'active';
      internal._abort('AbortError');
    } else {
      try {
        transaction.abort();
      } catch {
        // Committing or finished.
      }
    }
  }
  // Errors of aborted requests bubble to the connection; its 'close' (idb-keyval forgets the connection on it) stays heard.
  silence(db, (listener) => listener.type === 'close' || listener.type === 'versionchange');
}

/** An open by a stopped instance: its upgrade is aborted, its connection closed before anyone can use it. */
function refuseOpen(request: IDBOpenDBRequest): void {
  request.addEventListener('upgradeneeded', () => request.transaction?.abort());
  request.addEventListener('success', () => forceCloseDb(request.result));
}

/**
 * What a browser hands a worker that fetched with `redirect: 'manual'` and
 * got a 3xx: type 'opaqueredirect', status 0, no headers, no body; its url is
 * the request's. Node's fetch (and MSW) give the 3xx itself instead.
 */
export class OpaqueRedirectResponse extends Response {
  readonly #url: string;

  constructor(url: string) {
    super(null);
    this.#url = url;
  }

  override get type(): ResponseType {
    return 'opaqueredirect';
  }
  override get status(): number {
    return 0;
  }
  override get ok(): boolean {
    return false;
  }
  override get statusText(): string {
    return '';
  }
  override get url(): string {
    return this.#url;
  }
  override get redirected(): boolean {
    return false;
  }
  override clone(): Response {
    return new OpaqueRedirectResponse(this.#url);
  }
}

// ---------------------------------------------------------------------------
// Which instance is calling
//
// Decision (two instances at once): the worker's modules read `self`, `fetch`,
// `setTimeout`, `indexedDB`... as free variables, at call time. A second
// instance is evaluated in a fresh vitest module registry (vi.resetModules,
// as a restart already did), so module state is its own; and every global the
// worker reads is one function or getter that asks an AsyncLocalStorage which
// instance is calling. Events are dispatched, and the worker's modules
// evaluated, inside `calling.run(instance, ...)`; Node carries that context
// through awaits, promise callbacks and timers, so a continuation of instance
// A's code resolves `fetch` to A's even while B handles an event.
// Swapping globals per event was rejected: two instances' async work
// interleaves, and a swap would hand A's continuation B's globals. A node:vm
// context per instance was rejected too: vitest evaluates (and transforms) the
// TypeScript worker only in the test's own context, MSW intercepts only that
// context's fetch, and a second realm's Promise/Response/DOMException fail the
// `instanceof` checks in Workbox and in our code.
// Limits: fake-indexeddb runs queued transactions from whichever code finished
// the one before, so the synchronous part of an IDB event callback may be
// attributed to the other instance (awaits inside it are not); code with no
// instance context (the test's own) counts as the oldest running instance.

/** One running copy of the worker script: what the browser takes away when it stops it. */
class WorkerInstance {
  readonly target = new EventTarget();
  readonly handlers = new Map<string, (event: Event) => unknown>();
  readonly fetches = new Set<AbortController>();
  readonly timers = new Set<Timer>();
  readonly intervals = new Set<Timer>();
  readonly openRequests: IDBOpenDBRequest[] = [];
  readonly channels: BroadcastChannel[] = [];
  /** Events whose lifetime (respondWith, waitUntil) is not over. */
  readonly lifetimes = new Set<Promise<unknown[]>>();
  readonly indexedDB: IDBFactory;
  readonly location: EmulatedWorkerLocation;
  readonly stopped: Promise<void>;
  running = true;
  stopping: Promise<void> | undefined;
  skipWaitingCalls = 0;
  #stopped = () => {};

  constructor(
    readonly env: Environment,
    readonly worker: EmulatedServiceWorker,
    /** As given (the worker's location is its parsed form). */
    readonly scriptUrl: string,
  ) {
    this.location = new EmulatedWorkerLocation(worker.scriptURL);
    this.indexedDB = trackingFactory(this, env.factory);
    this.stopped = new Promise((resolve) => (this.#stopped = resolve));
    // Handler attributes (self.onfetch = ...) are listeners added first, so they run before addEventListener ones.
    for (const type of HANDLER_EVENTS) this.target.addEventListener(type, (event) => this.handlers.get(type)?.(event));
  }

  /** Marks the instance stopped: from now on its calls are refused, and its pending events are over. */
  halt(): void {
    this.running = false;
    this.#stopped();
  }

  /** Dispatches in this instance, and resolves once the event's lifetime is over to the rejection reasons. */
  dispatch(event: EmulatedExtendableEvent): Promise<unknown[]> {
    if (!this.running) throw new Error('this worker instance was stopped: start another with restartWorker() (or killWorker())');
    calling.run(this, () => dispatchFlagged(this.target, event));
    const dropped = this.stopped.then(() => [stoppedError('the service worker was stopped before this event was over')]);
    const settled = Promise.race([lifetimeSettled(event), dropped]);
    this.lifetimes.add(settled);
    void settled.then(() => this.lifetimes.delete(settled));
    return settled;
  }

  /** The worker's `fetch`: each call can be aborted by a stop; `redirect: 'manual'` gets the browser's opaque redirect. */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    if (!this.running) throw stoppedError();
    const controller = new AbortController();
    const given = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const signal = given ? AbortSignal.any([given, controller.signal]) : controller.signal;
    const redirect = init?.redirect ?? (input instanceof Request ? input.redirect : 'follow');
    // Tracked until the response (its headers) arrives: a body already handed on is not cut by a later stop.
    this.fetches.add(controller);
    try {
      const response = await this.env.fetch(input, { ...init, signal });
      if (redirect !== 'manual' || !REDIRECT_STATUSES.has(response.status)) return response;
      // Not awaited: cancelling an MSW response's stream never settles.
      void response.body?.cancel().catch(() => {});
      const url = input instanceof Request ? input.url : new URL(String(input), this.location.href).href;
      return new OpaqueRedirectResponse(url);
    } finally {
      this.fetches.delete(controller);
    }
  }

  setTimeout(handler: unknown, ms?: number, ...args: unknown[]): Timer {
    if (!this.running) return inertTimer();
    const id: Timer = realSetTimeout(() => {
      this.timers.delete(id);
      if (this.running && typeof handler === 'function') handler(...args);
    }, ms);
    this.timers.add(id);
    return id;
  }

  setInterval(handler: unknown, ms?: number, ...args: unknown[]): Timer {
    if (!this.running) return inertTimer();
    const id: Timer = realSetInterval(() => {
      if (this.running && typeof handler === 'function') handler(...args);
    }, ms);
    this.intervals.add(id);
    return id;
  }

  /** What a browser takes from a stopped worker: timers, channels, connections (transactions aborted when `abort`). */
  release(abort: boolean): void {
    for (const id of this.timers) realClearTimeout(id);
    for (const id of this.intervals) realClearInterval(id as Parameters<typeof realClearInterval>[0]);
    this.timers.clear();
    this.intervals.clear();
    for (const channel of this.channels) channel.close();
    for (const request of this.openRequests) {
      if (abort) abortTransactions(request);
      forceClose(request);
    }
    if (abort) for (const controller of this.fetches) controller.abort(stoppedError());
  }
}

function inertTimer(): Timer {
  const id = realSetTimeout(() => {}, 0);
  realClearTimeout(id);
  return id;
}

const calling = new AsyncLocalStorage<WorkerInstance>();

/** True when the code calling now belongs to a stopped instance (the test's own code never does). */
function callerStopped(): boolean {
  const caller = calling.getStore();
  return caller !== undefined && !caller.running;
}

/**
 * The factory an instance sees: the shared one, remembering every connection
 * it opens, so a stop can close them as a terminated worker's are (otherwise
 * a restarted worker's version upgrade would stay blocked).
 */
function trackingFactory(instance: WorkerInstance, factory: IDBFactory): IDBFactory {
  // Object.create keeps `indexedDB instanceof IDBFactory` true.
  const tracking: IDBFactory = Object.create(factory);
  Object.defineProperties(tracking, {
    open: {
      value: (...args: Parameters<IDBFactory['open']>) => {
        const request = factory.open(...args);
        if (instance.running) instance.openRequests.push(request);
        else refuseOpen(request);
        return request;
      },
    },
    deleteDatabase: {
      value: (name: string) => {
        if (!instance.running) throw stoppedError();
        return factory.deleteDatabase(name);
      },
    },
    databases: { value: () => factory.databases() },
    cmp: { value: (first: unknown, second: unknown) => factory.cmp(first, second) },
  });
  return tracking;
}

/** The globals of one registration, shared by its instances (one or two). */
interface Environment {
  readonly factory: IDBFactory;
  readonly caches: CacheStorage;
  readonly registration: EmulatedRegistration;
  readonly clients: EmulatedClients;
  /** The fetch that was global before the scope (MSW's, usually). */
  readonly fetch: typeof fetch;
  readonly options: ScopeOptions;
  readonly instances: WorkerInstance[];
  readonly patch: GlobalPatch;
  /** The page ask() speaks for by default: at the registration's scope, not listed by clients.matchAll(). */
  readonly asker: EmulatedWindowClient;
  installed: boolean;
}

/** The calling instance; code with none (the test's) counts as the oldest running one. */
function callerIn(env: Environment): WorkerInstance {
  return calling.getStore() ?? env.instances.find((instance) => instance.running) ?? env.instances.at(-1)!;
}

function installGlobals(env: Environment): void {
  const { patch } = env;
  const me = () => callerIn(env);
  const NodeBroadcastChannel = globalThis.BroadcastChannel;
  /** A stopped worker's channels close; a stopped instance's new one is born closed. */
  class InstanceBroadcastChannel extends NodeBroadcastChannel {
    constructor(name: string) {
      super(name);
      const owner = me();
      if (owner.running) owner.channels.push(this);
      else this.close();
    }
  }
  /** Lets `self instanceof ServiceWorkerGlobalScope` tell code it runs in a worker. */
  class ServiceWorkerGlobalScope {
    static [Symbol.hasInstance](value: unknown): boolean {
      return value === globalThis;
    }
  }

  patch.set(ACTIVE_SCOPE, true);
  patch.set('self', globalThis);
  patch.define('location', { get: () => me().location });
  patch.set(UNDICI_GLOBAL_ORIGIN, new URL(env.options.scriptUrl));
  patch.set('registration', env.registration);
  patch.set('clients', env.clients);
  patch.set('caches', env.caches);
  patch.set(CALLER_GUARD, () => {
    if (callerStopped()) throw invalidState('Cache Storage: the service worker was stopped');
  });
  patch.set('skipWaiting', async (): Promise<void> => {
    me().skipWaitingCalls += 1;
  });
  patch.set('addEventListener', (...args: Parameters<EventTarget['addEventListener']>) => {
    const instance = me();
    if (instance.running) instance.target.addEventListener(...args);
  });
  patch.set('removeEventListener', (...args: Parameters<EventTarget['removeEventListener']>) => me().target.removeEventListener(...args));
  patch.set('dispatchEvent', (event: Event) => {
    const { target } = me();
    if (!(event instanceof EmulatedExtendableEvent)) return target.dispatchEvent(event);
    dispatchFlagged(target, event);
    return !event.defaultPrevented;
  });
  // `self.onfetch = ...` and friends, as event handler attributes.
  for (const type of HANDLER_EVENTS) {
    patch.define(`on${type}`, {
      get: () => me().handlers.get(type) ?? null,
      set: (value: unknown) => {
        if (typeof value === 'function') me().handlers.set(type, value as (event: Event) => unknown);
        else me().handlers.delete(type);
      },
    });
  }
  patch.set('fetch', (input: RequestInfo | URL, init?: RequestInit) => me().fetch(input, init));
  patch.set('setTimeout', (handler: unknown, ms?: number, ...args: unknown[]) => me().setTimeout(handler, ms, ...args));
  patch.set('setInterval', (handler: unknown, ms?: number, ...args: unknown[]) => me().setInterval(handler, ms, ...args));
  patch.define('indexedDB', { get: () => me().indexedDB });
  patch.set('ServiceWorkerGlobalScope', ServiceWorkerGlobalScope);
  patch.set('WorkerGlobalScope', ServiceWorkerGlobalScope);
  patch.set('ExtendableEvent', EmulatedExtendableEvent);
  patch.set('FetchEvent', EmulatedFetchEvent);
  patch.set('SyncEvent', EmulatedSyncEvent);
  patch.set('ExtendableMessageEvent', EmulatedMessageEvent);
  patch.set('Client', EmulatedWindowClient);
  patch.set('WindowClient', EmulatedWindowClient);
  patch.set('BroadcastChannel', InstanceBroadcastChannel);
  // Node 20 has no navigator; Workbox's dev logger reads navigator.userAgent.
  patch.set('navigator', { userAgent: 'Node.js (offline-outbox sw-scope)', onLine: true, language: 'en-US', languages: ['en-US'] });
  patch.set('IDBFactory', IDBFactory);
  patch.set('IDBKeyRange', IDBKeyRange);
  patch.set('IDBDatabase', IDBDatabase);
  patch.set('IDBTransaction', IDBTransaction);
  patch.set('IDBObjectStore', IDBObjectStore);
  patch.set('IDBIndex', IDBIndex);
  patch.set('IDBCursor', IDBCursor);
  patch.set('IDBCursorWithValue', IDBCursorWithValue);
  patch.set('IDBRequest', IDBRequest);
  patch.set('IDBOpenDBRequest', IDBOpenDBRequest);
  patch.set('IDBVersionChangeEvent', IDBVersionChangeEvent);
  patch.set('__WB_DISABLE_DEV_LOGS', !env.options.workboxLogs);
}

/** Puts globalThis back once no instance of the registration runs. */
function uninstallIfDone(env: Environment): void {
  if (!env.installed || env.instances.some((instance) => instance.running)) return;
  env.installed = false;
  env.patch.restore();
}

const sleep = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));

/** Stops an instance as `mode` says (see the file's comment). Idempotent. */
function stop(instance: WorkerInstance, mode: StopMode): Promise<void> {
  instance.stopping ??= (async () => {
    if (mode === 'drain') {
      // A browser also lets a stopping worker finish (within limits); without
      // this, late waitUntil work would hit the removed globals.
      let timer: Timer | undefined;
      const limit = new Promise((resolve) => (timer = realSetTimeout(resolve, TEARDOWN_DRAIN_MS)));
      await Promise.race([Promise.allSettled([...instance.lifetimes]), limit]);
      realClearTimeout(timer);
      // Work no event holds (a worker's start-up read of its storage) gets a
      // moment to finish, as in a browser, before its connections are closed.
      await sleep(TEARDOWN_SETTLE_MS);
      instance.release(false);
      instance.halt();
    } else {
      if (mode === 'when-idle') await untilIdle(instance);
      instance.halt();
      instance.release(true);
      // The stopped code's rejections run now, against the refusing globals.
      await sleep(KILL_SETTLE_MS);
    }
    uninstallIfDone(instance.env);
  })();
  return instance.stopping;
}

/**
 * Until no event is pending, or at most `limitMs`: a browser also ends an
 * event that outlives its limit (Chrome: 5 minutes) and stops the worker.
 */
async function untilIdle(instance: WorkerInstance, limitMs = TEARDOWN_DRAIN_MS): Promise<void> {
  let late = false;
  let timer: Timer | undefined;
  const limit = new Promise((resolve) => (timer = realSetTimeout(resolve, limitMs))).then(() => (late = true));
  try {
    while (instance.lifetimes.size > 0 && !late) {
      await Promise.race([Promise.allSettled([...instance.lifetimes]), limit]);
      // The set forgets a lifetime in a callback of its own: let it run.
      await sleep(0);
    }
  } finally {
    realClearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// The scope

/** How a worker instance stops; see the file's comment. */
export type StopMode = 'drain' | 'when-idle' | 'kill';

export interface ScopeOptions {
  /** The worker script's URL, e.g. 'http://127.0.0.1:8080/sw.js?manifest=/m.json'. */
  scriptUrl: string;
  /** Share one across scopes to keep caches over a restart. Default: a new MemoryCacheStorage. */
  caches?: CacheStorage;
  /** Share one `new IDBFactory()` across scopes to keep databases over a restart. Default: a new one. */
  indexedDB?: IDBFactory;
  /** Start as the registration's active worker (a restart of an activated worker). Default false. */
  activated?: boolean;
  /** Let Workbox print its dev logs. Default false (sets self.__WB_DISABLE_DEV_LOGS). */
  workboxLogs?: boolean;
  /** How teardown() (and restartWorker) stop this worker and the ones restarted from it. Default 'drain'. */
  stop?: StopMode;
}

export interface EmulatedFetchInit extends EmulatedRequestInit {
  /** The id of the page making the request (ignored for navigations, whose clientId is ''). */
  clientId?: string;
  /** For navigations: the id of the page being created. Default: a random id. */
  resultingClientId?: string;
}

export interface FetchOutcome {
  /** Whether a fetch listener called respondWith. */
  handled: boolean;
  /** The response given to respondWith, awaited; undefined when not handled. */
  response: Response | undefined;
  /** Resolves once all waitUntil work settled, to the reasons of what rejected ([AbortError] if the worker was stopped first). */
  done: Promise<unknown[]>;
}

export interface ServiceWorkerScope {
  readonly scriptUrl: string;
  /** globalThis, which the worker knows as self. */
  readonly self: typeof globalThis;
  readonly location: EmulatedWorkerLocation;
  readonly registration: EmulatedRegistration;
  readonly worker: EmulatedServiceWorker;
  readonly clients: EmulatedClients;
  readonly caches: CacheStorage;
  /** The factory given (or made): pass it to the next scope to keep the databases. */
  readonly indexedDB: IDBFactory;
  /** How many times the worker called skipWaiting(). */
  readonly skipWaitingCalls: number;
  /** False once the instance was stopped (killed, idle-stopped or torn down); events can no longer be dispatched to it. */
  readonly running: boolean;
  /** How many dispatched events still have a respondWith or waitUntil outstanding. */
  readonly pendingEvents: number;
  /** Dispatches install; rejects with the first waitUntil rejection (a failed install). */
  install(): Promise<void>;
  /** Dispatches activate; rejects with the first waitUntil rejection (the worker is activated anyway). */
  activate(): Promise<void>;
  /**
   * Dispatches a FetchEvent as a page's request would; rejects if the
   * respondWith promise does, or with a TypeError if the worker is stopped before it answers.
   */
  fetch(input: RequestInfo | URL, init?: EmulatedFetchInit): Promise<FetchOutcome>;
  /** Dispatches a SyncEvent; rejects with the first waitUntil rejection (the tag then stays registered). */
  sync(tag: string, lastChance?: boolean): Promise<void>;
  /** Dispatches an ExtendableMessageEvent; resolves to the reasons of waitUntil rejections. */
  message(data: unknown, source?: EmulatedWindowClient | null): Promise<unknown[]>;
  /**
   * Posts `data` with a MessagePort, as a page asking the worker something;
   * resolves with the first reply on that port; rejects after `timeoutMs`, or
   * at once if the worker is stopped first. `source` is the page that asks
   * (as in a browser, a message from a page always has one): by default a
   * page at the registration's scope that `clients.matchAll()` does not list;
   * null for a message with no source.
   */
  ask(data: unknown, timeoutMs?: number, source?: EmulatedWindowClient | null): Promise<unknown>;
  /** Runs `fn` as this instance's code: the globals it (and what it starts) reads are this instance's. */
  run<T>(fn: () => T): T;
  /** Stops the instance abruptly (see the file's comment), then puts globalThis back if it was the last. */
  kill(): Promise<void>;
  /** Stops the instance as a browser stops an idle worker if no event is pending; resolves to whether it is stopped. */
  stopIfIdle(): Promise<boolean>;
  /** Waits until no event is pending (at most 2 s), then stops the instance abruptly, abandoning work started outside waitUntil. */
  stopWhenIdle(): Promise<void>;
  /** Stops the instance (`mode`, default the scope's `stop` option, else 'drain') and puts globalThis back if it was the last. */
  teardown(mode?: StopMode): Promise<void>;
}

function newEnvironment(options: ScopeOptions): Environment {
  if (Reflect.get(globalThis, ACTIVE_SCOPE)) {
    throw new Error('A service worker scope is already installed: await its teardown() first');
  }
  const worker = new EmulatedServiceWorker(new URL(options.scriptUrl).href, options.activated ? 'activated' : 'parsed');
  const registration = new EmulatedRegistration(new URL('.', worker.scriptURL).href, worker);
  const env: Environment = {
    factory: options.indexedDB ?? new IDBFactory(),
    caches: options.caches ?? new MemoryCacheStorage(),
    registration,
    clients: new EmulatedClients(worker.scriptURL, () => isActiveState(callerIn(env).worker.state)),
    fetch: globalThis.fetch,
    options,
    instances: [],
    patch: new GlobalPatch(),
    asker: new EmulatedWindowClient({ url: registration.scope, id: 'sw-scope-asker', focused: true }),
    installed: true,
  };
  env.instances.push(new WorkerInstance(env, worker, options.scriptUrl));
  installGlobals(env);
  return env;
}

const instanceOfScope = new WeakMap<ServiceWorkerScope, WorkerInstance>();

function scopeOf(instance: WorkerInstance): ServiceWorkerScope {
  const { env, worker } = instance;
  const { registration } = env;

  async function lifecycle(type: 'install' | 'activate'): Promise<void> {
    worker.state = type === 'install' ? 'installing' : 'activating';
    if (type === 'activate') registration.retireOthers(worker);
    const reasons = await instance.dispatch(new EmulatedExtendableEvent(type));
    const failed = reasons.length > 0;
    worker.state = type === 'install' ? (failed ? 'redundant' : 'installed') : 'activated';
    if (failed) throw reasons[0];
  }

  const scope: ServiceWorkerScope = {
    scriptUrl: instance.scriptUrl,
    self: globalThis,
    location: instance.location,
    registration,
    worker,
    clients: env.clients,
    caches: env.caches,
    indexedDB: env.factory,
    get skipWaitingCalls() {
      return instance.skipWaitingCalls;
    },
    get running() {
      return instance.running;
    },
    get pendingEvents() {
      return instance.lifetimes.size;
    },
    install: () => lifecycle('install'),
    activate: () => lifecycle('activate'),

    async fetch(input, init = {}) {
      const { clientId, resultingClientId, ...requestInit } = init;
      const resolved = input instanceof Request ? input : new URL(String(input), instance.location.href);
      const request = new EmulatedRequest(resolved, requestInit);
      const navigate = request.mode === 'navigate';
      const event = new EmulatedFetchEvent('fetch', {
        request,
        clientId: navigate ? '' : (clientId ?? ''),
        resultingClientId: navigate ? (resultingClientId ?? crypto.randomUUID()) : '',
      });
      const done = instance.dispatch(event);
      dispatchFinished(event);
      const response = responseOf(event);
      if (!response) return { handled: false, response: undefined, done };
      // A worker stopped before it answered: the page's fetch fails with a network error.
      const cut = instance.stopped.then(() => Promise.reject(new TypeError('Failed to fetch: the service worker was stopped before it answered')));
      cut.catch(() => {}); // Nobody hears it once the answer came.
      return { handled: true, response: await Promise.race([response, cut]), done };
    },

    async sync(tag, lastChance = false) {
      const before = registration.sync.registrations(tag);
      const reasons = await instance.dispatch(new EmulatedSyncEvent('sync', { tag, lastChance }));
      // A failed sync stays registered for a retry unless it was the last
      // chance; one registered again while it fired fires again later.
      const reregistered = registration.sync.registrations(tag) > before;
      if ((reasons.length === 0 || lastChance) && !reregistered) registration.sync.forget(tag);
      if (reasons.length > 0) throw reasons[0];
    },

    async message(data, source = null) {
      return instance.dispatch(
        new EmulatedMessageEvent('message', {
          data: structuredClone(data),
          origin: source ? new URL(source.url).origin : '',
          source,
        }),
      );
    },

    async ask(data, timeoutMs = 5000, source = env.asker) {
      if (!instance.running) throw stoppedError('the worker was stopped: it cannot be asked anything');
      const { port1, port2 } = new MessageChannel();
      const reply = new Promise<unknown>((resolve, reject) => {
        const timer = realSetTimeout(() => {
          port1.close();
          reject(new Error(`the worker did not answer ${JSON.stringify(data)} within ${timeoutMs} ms`));
        }, timeoutMs);
        port1.onmessage = (event) => {
          realClearTimeout(timer);
          port1.close();
          resolve(event.data);
        };
        void instance.stopped.then(() => {
          realClearTimeout(timer);
          port1.close();
          reject(stoppedError(`the worker was stopped before it answered ${JSON.stringify(data)}`));
        });
      });
      void instance.dispatch(
        new EmulatedMessageEvent('message', {
          data: structuredClone(data),
          origin: source ? new URL(source.url).origin : '',
          source,
          ports: [port2],
        }),
      );
      return reply;
    },

    run: (fn) => calling.run(instance, fn),
    kill: () => stop(instance, 'kill'),
    async stopIfIdle() {
      if (instance.running && instance.lifetimes.size > 0 && !instance.stopping) return false;
      await stop(instance, 'kill');
      return true;
    },
    stopWhenIdle: () => stop(instance, 'when-idle'),
    teardown: (mode) => stop(instance, mode ?? env.options.stop ?? 'drain'),
  };
  instanceOfScope.set(scope, instance);
  return scope;
}

// ---------------------------------------------------------------------------
// Starting, restarting, killing, updating

/** Evaluates the worker's modules afresh as `instance`'s code; stops it if the script throws. */
async function evaluate(instance: WorkerInstance, importWorker: () => Promise<unknown>): Promise<ServiceWorkerScope> {
  // A fresh registry: the worker and Workbox run their top-level code again.
  vi.resetModules();
  const scope = scopeOf(instance);
  try {
    await calling.run(instance, importWorker);
  } catch (error) {
    await scope.teardown();
    throw error;
  }
  return scope;
}

/**
 * Evaluates the worker afresh in a new scope, as a browser starting the
 * worker does: resets vitest's module registry (so the worker and Workbox run
 * their top-level code again), installs the scope, then calls importWorker,
 * e.g. `() => import('../../sw/sw.ts')`. No lifecycle event is dispatched.
 */
export function startWorker(options: ScopeOptions, importWorker: () => Promise<unknown>): Promise<ServiceWorkerScope> {
  const env = newEnvironment(options);
  return evaluate(env.instances[0]!, importWorker);
}

/**
 * A scope whose "worker" is whatever the test adds to `self` itself (its
 * listeners count as the instance's: code with no instance context counts as
 * the oldest running instance).
 */
export function createServiceWorkerScope(options: ScopeOptions): ServiceWorkerScope {
  return scopeOf(newEnvironment(options).instances[0]!);
}

/**
 * The browser stopping the worker (`options.stop`, default the scope's
 * `stop` option, else 'drain') and starting it again later: same script URL,
 * same caches and databases, same lifecycle state, fresh module state. While
 * another instance of the registration still runs (startNextWorker), the
 * new instance joins it, with the same ServiceWorker object.
 */
export async function restartWorker(previous: ServiceWorkerScope, importWorker: () => Promise<unknown>, options: { stop?: StopMode } = {}): Promise<ServiceWorkerScope> {
  const old = instanceOf(previous);
  const { env } = old;
  await previous.teardown(options.stop);
  if (env.installed) {
    const instance = new WorkerInstance(env, old.worker, old.scriptUrl);
    env.instances.push(instance);
    return evaluate(instance, importWorker);
  }
  return startWorker(
    {
      ...env.options,
      scriptUrl: previous.scriptUrl,
      caches: previous.caches,
      indexedDB: previous.indexedDB,
      activated: previous.worker.state === 'activated',
    },
    importWorker,
  );
}

/**
 * A browser killing the worker (DevTools' stop, a crash, an OOM) and starting
 * it again: `restartWorker` with `stop: 'kill'`. The old instance's fetches
 * are aborted and its waitUntil work dropped; see the file's comment.
 */
export function killWorker(previous: ServiceWorkerScope, importWorker: () => Promise<unknown>): Promise<ServiceWorkerScope> {
  return restartWorker(previous, importWorker, { stop: 'kill' });
}

/**
 * A second instance of the registration, beside `current` (which keeps
 * running): the browser starting an update's worker while the active one
 * still replays. Its modules are evaluated afresh (their own state); it
 * shares `current`'s registration (a new ServiceWorker in it, 'parsed' unless
 * `activated`), clients, Cache Storage and IndexedDB. Dispatch its lifecycle
 * yourself: `await next.install(); await next.activate()` (activating makes
 * `current`'s worker redundant, as in a browser; it keeps running until you
 * stop it). Test code outside both counts as the older instance: use
 * `next.run(fn)` to act as the new one.
 */
export function startNextWorker(
  current: ServiceWorkerScope,
  importWorker: () => Promise<unknown>,
  options: { scriptUrl?: string; activated?: boolean } = {},
): Promise<ServiceWorkerScope> {
  const { env } = instanceOf(current);
  if (!env.installed) throw new Error('startNextWorker: that scope was torn down; start one with startWorker()');
  const scriptUrl = options.scriptUrl ?? current.scriptUrl;
  const worker = new EmulatedServiceWorker(new URL(scriptUrl).href, options.activated ? 'activated' : 'parsed');
  env.registration.addWorker(worker);
  const instance = new WorkerInstance(env, worker, scriptUrl);
  env.instances.push(instance);
  return evaluate(instance, importWorker);
}

function instanceOf(scope: ServiceWorkerScope): WorkerInstance {
  const instance = instanceOfScope.get(scope);
  if (!instance) throw new TypeError('not a scope made by sw-scope.ts');
  return instance;
}
