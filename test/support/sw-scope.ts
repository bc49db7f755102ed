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
 * Only one scope can be installed at a time; `teardown()` puts globalThis back.
 * Import the worker (and anything that imports Workbox) only after the scope
 * exists: Workbox's dev logger touches `self` when its module is evaluated.
 */
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
    const release = () => queueMicrotask(() => { lifetime.pending -= 1; });
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
  for (let seen = 0; seen < promises.length;) {
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
        else outcome.then(() => resolve(undefined), () => reject(new DOMException('respondWith failed', 'NetworkError')));
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
    this.#destination = destination
      ?? (input instanceof Request && input.destination ? input.destination : undefined)
      ?? (navigate ? 'document' : undefined);
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

  get href(): string { return this.#url.href; }
  get origin(): string { return this.#url.origin; }
  get protocol(): string { return this.#url.protocol; }
  get host(): string { return this.#url.host; }
  get hostname(): string { return this.#url.hostname; }
  get port(): string { return this.#url.port; }
  get pathname(): string { return this.#url.pathname; }
  get search(): string { return this.#url.search; }
  get hash(): string { return this.#url.hash; }
  toString(): string { return this.#url.href; }
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
  readonly #worker: EmulatedServiceWorker;

  constructor(scope: string, worker: EmulatedServiceWorker) {
    this.scope = scope;
    this.#worker = worker;
  }

  get installing(): EmulatedServiceWorker | null {
    return this.#worker.state === 'installing' ? this.#worker : null;
  }

  get waiting(): EmulatedServiceWorker | null {
    return this.#worker.state === 'installed' ? this.#worker : null;
  }

  get active(): EmulatedServiceWorker | null {
    const { state } = this.#worker;
    return state === 'activating' || state === 'activated' ? this.#worker : null;
  }

  async update(): Promise<void> {}

  async unregister(): Promise<boolean> {
    return true;
  }
}

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
const HANDLER_EVENTS = ['install', 'activate', 'fetch', 'sync', 'message', 'messageerror'] as const;
const TEARDOWN_SETTLE_MS = 25;
const TEARDOWN_DRAIN_MS = 2000;
// Taken before any test fakes timers, so teardown's time limit stays real.
const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout, setInterval: realSetInterval, clearInterval: realClearInterval } = globalThis;

/**
 * The factory the worker sees: the given one, but remembering every
 * connection it opens, so teardown can close them as a terminated worker's
 * are (otherwise a restarted worker's version upgrade would stay blocked).
 */
function trackingFactory(factory: IDBFactory, requests: IDBOpenDBRequest[]): IDBFactory {
  // Object.create keeps `indexedDB instanceof IDBFactory` true.
  const tracking: IDBFactory = Object.create(factory);
  Object.defineProperties(tracking, {
    open: {
      value: (...args: Parameters<IDBFactory['open']>) => {
        const request = factory.open(...args);
        requests.push(request);
        return request;
      },
    },
    deleteDatabase: { value: (name: string) => factory.deleteDatabase(name) },
    databases: { value: () => factory.databases() },
    cmp: { value: (first: unknown, second: unknown) => factory.cmp(first, second) },
  });
  return tracking;
}

function forceClose(request: IDBOpenDBRequest): void {
  // Forced, so the connection fires 'close': idb-keyval (loaded once per test
  // file, outside vi.resetModules) then drops its cached connection and
  // reopens with the next scope's indexedDB.
  // fake-indexeddb types its parameter as the IDBDatabase constructor by mistake.
  const close = (db: IDBDatabase) => forceCloseDatabase(db as unknown as typeof IDBDatabase);
  if (request.readyState === 'pending') {
    request.addEventListener('success', () => close(request.result));
  } else if (request.result) {
    close(request.result);
  }
}

// ---------------------------------------------------------------------------
// The scope

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
  /** Resolves once all waitUntil work settled, to the reasons of what rejected. */
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
  /** Dispatches install; rejects with the first waitUntil rejection (a failed install). */
  install(): Promise<void>;
  /** Dispatches activate; rejects with the first waitUntil rejection (the worker is activated anyway). */
  activate(): Promise<void>;
  /** Dispatches a FetchEvent as a page's request would; rejects if the respondWith promise does. */
  fetch(input: RequestInfo | URL, init?: EmulatedFetchInit): Promise<FetchOutcome>;
  /** Dispatches a SyncEvent; rejects with the first waitUntil rejection (the tag then stays registered). */
  sync(tag: string, lastChance?: boolean): Promise<void>;
  /** Dispatches an ExtendableMessageEvent; resolves to the reasons of waitUntil rejections. */
  message(data: unknown, source?: EmulatedWindowClient | null): Promise<unknown[]>;
  /** Posts `data` with a MessagePort, as a page asking the worker something; resolves with the first reply on that port. */
  ask(data: unknown, timeoutMs?: number): Promise<unknown>;
  /** Waits (up to 2 s) for outstanding waitUntil work, then puts globalThis back as it was. */
  teardown(): Promise<void>;
}

export function createServiceWorkerScope(options: ScopeOptions): ServiceWorkerScope {
  if (Reflect.get(globalThis, ACTIVE_SCOPE)) {
    throw new Error('A service worker scope is already installed: await its teardown() first');
  }
  const patch = new GlobalPatch();
  const target = new EventTarget();
  const location = new EmulatedWorkerLocation(options.scriptUrl);
  const worker = new EmulatedServiceWorker(location.href, options.activated ? 'activated' : 'parsed');
  const registration = new EmulatedRegistration(new URL('.', location.href).href, worker);
  const clients = new EmulatedClients(location.href, () => registration.active !== null);
  const caches = options.caches ?? new MemoryCacheStorage();
  const factory = options.indexedDB ?? new IDBFactory();
  const openRequests: IDBOpenDBRequest[] = [];
  const channels: BroadcastChannel[] = [];
  const outstanding = new Set<Promise<unknown>>();
  let skipWaitingCalls = 0;

  const NodeBroadcastChannel = globalThis.BroadcastChannel;
  /** A terminated worker's channels close; these are closed by teardown. */
  class ScopedBroadcastChannel extends NodeBroadcastChannel {
    constructor(name: string) {
      super(name);
      channels.push(this);
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
  patch.set('location', location);
  patch.set(UNDICI_GLOBAL_ORIGIN, new URL(location.href));
  patch.set('registration', registration);
  patch.set('clients', clients);
  patch.set('caches', caches);
  patch.set('skipWaiting', async (): Promise<void> => { skipWaitingCalls += 1; });
  patch.set('addEventListener', target.addEventListener.bind(target));
  patch.set('removeEventListener', target.removeEventListener.bind(target));
  patch.set('dispatchEvent', (event: Event) => {
    if (!(event instanceof EmulatedExtendableEvent)) return target.dispatchEvent(event);
    dispatchFlagged(target, event);
    return !event.defaultPrevented;
  });
  for (const type of HANDLER_EVENTS) defineHandlerProperty(patch, target, type);
  patch.set('ServiceWorkerGlobalScope', ServiceWorkerGlobalScope);
  patch.set('WorkerGlobalScope', ServiceWorkerGlobalScope);
  patch.set('ExtendableEvent', EmulatedExtendableEvent);
  patch.set('FetchEvent', EmulatedFetchEvent);
  patch.set('SyncEvent', EmulatedSyncEvent);
  patch.set('ExtendableMessageEvent', EmulatedMessageEvent);
  patch.set('Client', EmulatedWindowClient);
  patch.set('WindowClient', EmulatedWindowClient);
  patch.set('BroadcastChannel', ScopedBroadcastChannel);
  // Node 20 has no navigator; Workbox's dev logger reads navigator.userAgent.
  patch.set('navigator', { userAgent: 'Node.js (offline-outbox sw-scope)', onLine: true, language: 'en-US', languages: ['en-US'] });
  patch.set('indexedDB', trackingFactory(factory, openRequests));
  // A stopped worker's timers die with it: the ones set while this scope is
  // installed (by the worker, mostly) are cleared at teardown.
  type Timer = Parameters<typeof realClearTimeout>[0];
  const timers = new Set<Timer>();
  const intervals = new Set<Timer>();
  patch.set('setTimeout', (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const id: Timer = realSetTimeout(() => {
      timers.delete(id);
      handler(...args);
    }, ms);
    timers.add(id);
    return id;
  });
  patch.set('setInterval', (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const id: Timer = realSetInterval(() => handler(...args), ms);
    intervals.add(id);
    return id;
  });
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
  patch.set('__WB_DISABLE_DEV_LOGS', !options.workboxLogs);

  /** Dispatches, and resolves once the event's lifetime is over to the rejection reasons. */
  function dispatch(event: EmulatedExtendableEvent): Promise<unknown[]> {
    dispatchFlagged(target, event);
    const settled = lifetimeSettled(event);
    outstanding.add(settled);
    void settled.then(() => outstanding.delete(settled));
    return settled;
  }

  async function lifecycle(type: 'install' | 'activate'): Promise<void> {
    worker.state = type === 'install' ? 'installing' : 'activating';
    const reasons = await dispatch(new EmulatedExtendableEvent(type));
    const failed = reasons.length > 0;
    worker.state = type === 'install' ? (failed ? 'redundant' : 'installed') : 'activated';
    if (failed) throw reasons[0];
  }

  let tornDown = false;

  return {
    scriptUrl: options.scriptUrl,
    self: globalThis,
    location,
    registration,
    worker,
    clients,
    caches,
    indexedDB: factory,
    get skipWaitingCalls() {
      return skipWaitingCalls;
    },
    install: () => lifecycle('install'),
    activate: () => lifecycle('activate'),

    async fetch(input, init = {}) {
      const { clientId, resultingClientId, ...requestInit } = init;
      const resolved = input instanceof Request ? input : new URL(String(input), location.href);
      const request = new EmulatedRequest(resolved, requestInit);
      const navigate = request.mode === 'navigate';
      const event = new EmulatedFetchEvent('fetch', {
        request,
        clientId: navigate ? '' : clientId ?? '',
        resultingClientId: navigate ? resultingClientId ?? crypto.randomUUID() : '',
      });
      const done = dispatch(event);
      dispatchFinished(event);
      const response = responseOf(event);
      if (!response) return { handled: false, response: undefined, done };
      return { handled: true, response: await response, done };
    },

    async sync(tag, lastChance = false) {
      const before = registration.sync.registrations(tag);
      const reasons = await dispatch(new EmulatedSyncEvent('sync', { tag, lastChance }));
      // A failed sync stays registered for a retry unless it was the last
      // chance; one registered again while it fired fires again later.
      const reregistered = registration.sync.registrations(tag) > before;
      if ((reasons.length === 0 || lastChance) && !reregistered) registration.sync.forget(tag);
      if (reasons.length > 0) throw reasons[0];
    },

    message(data, source = null) {
      return dispatch(new EmulatedMessageEvent('message', {
        data: structuredClone(data),
        origin: source ? new URL(source.url).origin : '',
        source,
      }));
    },

    ask(data, timeoutMs = 5000) {
      const { port1, port2 } = new MessageChannel();
      const reply = new Promise<unknown>((resolve, reject) => {
        const timer = realSetTimeout(() => reject(new Error(`the worker did not answer ${JSON.stringify(data)} within ${timeoutMs} ms`)), timeoutMs);
        port1.onmessage = (event) => {
          realClearTimeout(timer);
          port1.close();
          resolve(event.data);
        };
      });
      void dispatch(new EmulatedMessageEvent('message', { data: structuredClone(data), ports: [port2] }));
      return reply;
    },

    async teardown() {
      if (tornDown) return;
      tornDown = true;
      // A browser also lets a stopping worker finish (within limits); without
      // this, late waitUntil work would hit the removed globals.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise((resolve) => { timer = realSetTimeout(resolve, TEARDOWN_DRAIN_MS); });
      await Promise.race([Promise.allSettled([...outstanding]), timeout]);
      realClearTimeout(timer);
      // Work no event holds (a worker's start-up read of its storage) gets a
      // moment to finish, as in a browser, before its connections are closed.
      await new Promise((resolve) => realSetTimeout(resolve, TEARDOWN_SETTLE_MS));
      for (const id of timers) realClearTimeout(id);
      for (const id of intervals) realClearInterval(id as Parameters<typeof realClearInterval>[0]);
      for (const channel of channels) channel.close();
      for (const request of openRequests) forceClose(request);
      patch.restore();
    },
  };
}

/**
 * `self.onfetch = ...` and friends, as event handler attributes. Their
 * listener is added first, so a handler runs before addEventListener ones.
 */
function defineHandlerProperty(patch: GlobalPatch, target: EventTarget, type: string): void {
  let handler: ((event: Event) => unknown) | null = null;
  const listener = (event: Event) => handler?.(event);
  target.addEventListener(type, listener);
  patch.define(`on${type}`, {
    get: () => handler,
    set: (value: unknown) => { handler = typeof value === 'function' ? (value as (event: Event) => unknown) : null; },
  });
}

// ---------------------------------------------------------------------------
// Starting and restarting a worker

/**
 * Evaluates the worker afresh in a new scope, as a browser starting the
 * worker does: resets vitest's module registry (so the worker and Workbox run
 * their top-level code again), installs the scope, then calls importWorker,
 * e.g. `() => import('../../sw/sw.ts')`. No lifecycle event is dispatched.
 */
export async function startWorker(
  options: ScopeOptions,
  importWorker: () => Promise<unknown>,
): Promise<ServiceWorkerScope> {
  vi.resetModules();
  const scope = createServiceWorkerScope(options);
  try {
    await importWorker();
  } catch (error) {
    await scope.teardown();
    throw error;
  }
  return scope;
}

/**
 * A browser killing the worker and starting it again later: same script URL,
 * same caches and databases, same lifecycle state, fresh module state.
 */
export async function restartWorker(
  previous: ServiceWorkerScope,
  importWorker: () => Promise<unknown>,
): Promise<ServiceWorkerScope> {
  await previous.teardown();
  return startWorker({
    scriptUrl: previous.scriptUrl,
    caches: previous.caches,
    indexedDB: previous.indexedDB,
    activated: previous.worker.state === 'activated',
  }, importWorker);
}
