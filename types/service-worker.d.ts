/**
 * The service-worker types the code needs, declared beside the DOM library.
 * TypeScript's "WebWorker" lib cannot be combined with "DOM" in one program,
 * and the tests (DOM + Node) import the worker's modules, so the few worker
 * interfaces used here are declared once, by hand.
 */
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
declare var ExtendableEvent: {
  prototype: ExtendableEvent;
  new (type: string, init?: EventInit): ExtendableEvent;
};

interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  readonly clientId: string;
  readonly resultingClientId: string;
  readonly preloadResponse: Promise<unknown>;
  readonly handled: Promise<undefined>;
  respondWith(response: Response | PromiseLike<Response>): void;
}
declare var FetchEvent: {
  prototype: FetchEvent;
  new (type: string, init: EventInit & { request: Request; clientId?: string }): FetchEvent;
};

interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}

interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: unknown;
  readonly source: Client | ServiceWorker | MessagePort | null;
  readonly ports: ReadonlyArray<MessagePort>;
}

interface Client {
  readonly id: string;
  readonly type: 'window' | 'worker' | 'sharedworker';
  readonly url: string;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

interface Clients {
  claim(): Promise<void>;
  get(id: string): Promise<Client | undefined>;
  matchAll(options?: { includeUncontrolled?: boolean; type?: 'window' | 'worker' | 'sharedworker' | 'all' }): Promise<Client[]>;
}

interface SyncManager {
  register(tag: string): Promise<void>;
  getTags(): Promise<string[]>;
}

interface ServiceWorkerRegistration {
  readonly sync?: SyncManager;
}

interface ServiceWorkerGlobalScopeEventMap {
  install: ExtendableEvent;
  activate: ExtendableEvent;
  fetch: FetchEvent;
  sync: SyncEvent;
  message: ExtendableMessageEvent;
}

interface ServiceWorkerGlobalScope extends EventTarget {
  readonly registration: ServiceWorkerRegistration;
  readonly clients: Clients;
  readonly location: { readonly href: string; readonly origin: string };
  readonly caches: CacheStorage;
  readonly indexedDB: IDBFactory;
  skipWaiting(): Promise<void>;
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  addEventListener<K extends keyof ServiceWorkerGlobalScopeEventMap>(type: K, listener: (event: ServiceWorkerGlobalScopeEventMap[K]) => void): void;
}
