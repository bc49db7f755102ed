import { IDBFactory } from 'fake-indexeddb';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryCacheStorage } from '../support/cache-storage.js';
import {
  EmulatedExtendableEvent,
  OpaqueRedirectResponse,
  createServiceWorkerScope,
  killWorker,
  restartWorker,
  startNextWorker,
  startWorker,
  type ServiceWorkerScope,
} from '../support/sw-scope.js';

/** The worker's view of globalThis, as the worker's own modules declare it. */
declare const self: ServiceWorkerGlobalScope;

const ORIGIN = 'http://127.0.0.1:8080';
const SCRIPT_URL = `${ORIGIN}/sw.js?manifest=/m.json`;

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

let scope: ServiceWorkerScope | undefined;
/** A second instance beside `scope` (startNextWorker). */
let next: ServiceWorkerScope | undefined;
afterEach(async () => {
  await next?.teardown();
  await scope?.teardown();
  scope = next = undefined;
  vi.useRealTimers();
});

/** A scope whose "worker" is the listeners the test adds. */
function newScope(): ServiceWorkerScope {
  scope = createServiceWorkerScope({ scriptUrl: SCRIPT_URL });
  return scope;
}

const json = (body: unknown, headers: HeadersInit = {}) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json', ...headers } });

describe('MemoryCacheStorage', () => {
  it('matches by URL without fragment, and ignores the query only when asked', async () => {
    const cache = await new MemoryCacheStorage().open('c');
    await cache.put(`${ORIGIN}/a?x=1#frag`, json(1));

    expect(await (await cache.match(`${ORIGIN}/a?x=1`))?.json()).toBe(1);
    expect(await cache.match(`${ORIGIN}/a?x=2`)).toBeUndefined();
    expect(await (await cache.match(`${ORIGIN}/a?x=2`, { ignoreSearch: true }))?.json()).toBe(1);
    expect(await cache.match(`${ORIGIN}/b`)).toBeUndefined();
  });

  it('matches only GET queries unless ignoreMethod', async () => {
    const cache = await new MemoryCacheStorage().open('c');
    await cache.put(`${ORIGIN}/a`, json(1));
    const post = new Request(`${ORIGIN}/a`, { method: 'POST' });

    expect(await cache.match(post)).toBeUndefined();
    expect(await cache.match(post, { ignoreMethod: true })).toBeInstanceOf(Response);
    expect(await cache.delete(post)).toBe(false);
  });

  it('applies Vary to the headers of the stored request', async () => {
    const cache = await new MemoryCacheStorage().open('c');
    const asJson = new Request(`${ORIGIN}/a`, { headers: { accept: 'application/json' } });
    const asHtml = new Request(`${ORIGIN}/a`, { headers: { accept: 'text/html' } });
    await cache.put(asJson, json('json', { vary: 'Accept' }));

    expect(await cache.match(asJson)).toBeInstanceOf(Response);
    expect(await cache.match(asHtml)).toBeUndefined();
    expect(await cache.match(asHtml, { ignoreVary: true })).toBeInstanceOf(Response);

    // A put under other Vary'd headers adds an entry instead of replacing.
    await cache.put(asHtml, new Response('html', { headers: { vary: 'Accept' } }));
    expect(await cache.keys()).toHaveLength(2);
    expect(await (await cache.match(asHtml))?.text()).toBe('html');
  });

  it('replaces the entry of the same URL and moves it last in keys()', async () => {
    const cache = await new MemoryCacheStorage().open('c');
    await cache.put(`${ORIGIN}/a`, json('a1'));
    await cache.put(`${ORIGIN}/b`, json('b'));
    await cache.put(`${ORIGIN}/a`, json('a2'));

    expect((await cache.keys()).map((request) => request.url)).toEqual([`${ORIGIN}/b`, `${ORIGIN}/a`]);
    expect(await (await cache.match(`${ORIGIN}/a`))?.json()).toBe('a2');
    expect(await cache.matchAll()).toHaveLength(2);
  });

  it('stores a copy: put consumes the given body, each match is a fresh response', async () => {
    const cache = await new MemoryCacheStorage().open('c');
    const given = new Response('body', { status: 201, statusText: 'Made', headers: { 'x-a': '1' } });
    await cache.put(`${ORIGIN}/a`, given);
    // As in browsers: put reads the response it is given.
    expect(given.bodyUsed).toBe(true);

    const first = await cache.match(`${ORIGIN}/a`);
    first?.headers.set('x-a', 'changed');
    expect(await first?.text()).toBe('body');
    const second = await cache.match(`${ORIGIN}/a`);
    expect(second).not.toBe(first);
    expect(second?.status).toBe(201);
    expect(second?.statusText).toBe('Made');
    expect(second?.headers.get('x-a')).toBe('1');
    expect(await second?.text()).toBe('body');

    const [key] = await cache.keys();
    key?.headers.set('x-b', 'changed');
    expect((await cache.keys())[0]?.headers.has('x-b')).toBe(false);
  });

  it('rejects what a browser cache refuses, with a TypeError', async () => {
    const cache = await new MemoryCacheStorage().open('c');
    await expect(cache.put(new Request(`${ORIGIN}/a`, { method: 'POST' }), json(1))).rejects.toThrow(TypeError);
    await expect(cache.put(`${ORIGIN}/a`, new Response('x', { status: 206 }))).rejects.toThrow(TypeError);
    await expect(cache.put(`${ORIGIN}/a`, new Response('x', { headers: { vary: 'Accept, *' } }))).rejects.toThrow(TypeError);
    const used = new Response('x');
    await used.text();
    await expect(cache.put(`${ORIGIN}/a`, used)).rejects.toThrow(TypeError);
    await expect(cache.put('ftp://example.com/a', json(1))).rejects.toThrow(TypeError);
    expect(await cache.keys()).toEqual([]);
  });

  it('addAll stores all responses or none', async () => {
    server.use(
      http.get(`${ORIGIN}/ok`, () => HttpResponse.text('ok')),
      http.get(`${ORIGIN}/missing`, () => new HttpResponse(null, { status: 404 })),
    );
    const cache = await new MemoryCacheStorage().open('c');

    await expect(cache.addAll([`${ORIGIN}/ok`, `${ORIGIN}/missing`])).rejects.toThrow(TypeError);
    expect(await cache.keys()).toEqual([]);
    await cache.add(`${ORIGIN}/ok`);
    expect(await (await cache.match(`${ORIGIN}/ok`))?.text()).toBe('ok');
  });

  it('opens, lists, matches across and deletes caches', async () => {
    const storage = new MemoryCacheStorage();
    await (await storage.open('one')).put(`${ORIGIN}/a`, json('one'));
    await (await storage.open('two')).put(`${ORIGIN}/a`, json('two'));

    expect(await storage.keys()).toEqual(['one', 'two']);
    expect(await (await storage.match(`${ORIGIN}/a`))?.json()).toBe('one');
    expect(await (await storage.match(`${ORIGIN}/a`, { cacheName: 'two' }))?.json()).toBe('two');
    expect(await storage.match(`${ORIGIN}/a`, { cacheName: 'three' })).toBeUndefined();
    expect(await storage.delete('one')).toBe(true);
    expect(await storage.has('one')).toBe(false);
    expect(await storage.keys()).toEqual(['two']);
  });

  it('resolves relative URLs against the worker location', async () => {
    const worker = newScope();
    const cache = await worker.caches.open('c');
    await cache.put('/a', json(1));
    expect((await cache.keys())[0]?.url).toBe(`${ORIGIN}/a`);
  });
});

describe('the emulated global scope', () => {
  it('installs the worker globals and removes them on teardown', async () => {
    const navigatorBefore = Reflect.getOwnPropertyDescriptor(globalThis, 'navigator');
    const fetchBefore = globalThis.fetch;
    const worker = newScope();
    const sw = globalThis as unknown as ServiceWorkerGlobalScope & { registration: { scope: string } };

    expect(sw).toBe(Reflect.get(globalThis, 'self'));
    expect(sw.location).toMatchObject({
      href: SCRIPT_URL,
      origin: ORIGIN,
      protocol: 'http:',
      host: '127.0.0.1:8080',
      hostname: '127.0.0.1',
      port: '8080',
      pathname: '/sw.js',
      search: '?manifest=/m.json',
      hash: '',
    });
    expect(String(sw.location)).toBe(SCRIPT_URL);
    expect(sw.registration.scope).toBe(`${ORIGIN}/`);
    expect(sw.caches).toBe(worker.caches);
    expect(new Request('/relative').url).toBe(`${ORIGIN}/relative`);
    expect(() => createServiceWorkerScope({ scriptUrl: SCRIPT_URL })).toThrow(/already installed/);

    await worker.teardown();
    for (const name of ['self', 'location', 'registration', 'clients', 'caches', 'indexedDB', 'FetchEvent', 'addEventListener']) {
      expect(name in globalThis, name).toBe(false);
    }
    expect(Reflect.getOwnPropertyDescriptor(globalThis, 'navigator')).toEqual(navigatorBefore);
    expect(globalThis.fetch).toBe(fetchBefore);
    expect(() => new Request('/relative')).toThrow(TypeError);
  });

  it('returns the response a fetch listener gives respondWith', async () => {
    const worker = newScope();
    self.addEventListener('fetch', (event) => {
      event.respondWith(Promise.resolve(new Response(`hello ${new URL(event.request.url).pathname}`)));
    });

    const { handled, response } = await worker.fetch('/greet');
    expect(handled).toBe(true);
    expect(await response?.text()).toBe('hello /greet');
  });

  it('reports a fetch no listener answered as unhandled, untouched', async () => {
    let networkCalls = 0;
    server.use(
      http.get(`${ORIGIN}/*`, () => {
        networkCalls += 1;
        return HttpResponse.text('network');
      }),
    );
    const worker = newScope();
    let seen: FetchEvent | undefined;
    self.addEventListener('fetch', (event) => {
      seen = event;
    });

    const outcome = await worker.fetch('/api/x', { method: 'POST', body: 'payload' });
    expect(outcome).toMatchObject({ handled: false, response: undefined });
    expect(await outcome.done).toEqual([]);
    expect(seen?.request.method).toBe('POST');
    expect(seen?.request.bodyUsed).toBe(false);
    await expect(seen?.handled).resolves.toBeUndefined();
    expect(networkCalls).toBe(0);
  });

  it('allows respondWith once, and only while the event is dispatched', async () => {
    const worker = newScope();
    const errors: unknown[] = [];
    let late: Promise<void> | undefined;
    self.addEventListener('fetch', (event) => {
      event.respondWith(new Response('first'));
      try {
        event.respondWith(new Response('second'));
      } catch (error) {
        errors.push(error);
      }
      late = Promise.resolve().then(() => event.respondWith(new Response('late')));
    });
    self.addEventListener('fetch', () => errors.push('second listener ran'));

    const { response } = await worker.fetch('/x');
    expect(await response?.text()).toBe('first');
    await expect(late).rejects.toMatchObject({ name: 'InvalidStateError' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: 'InvalidStateError' });
  });

  it('fails the fetch when respondWith gets something other than a usable Response', async () => {
    const worker = newScope();
    self.addEventListener('fetch', (event) => {
      if (event.request.url.endsWith('/reject')) event.respondWith(Promise.reject(new Error('boom')));
      else event.respondWith('not a response' as unknown as Response);
    });

    await expect(worker.fetch('/reject')).rejects.toThrow('boom');
    await expect(worker.fetch('/other')).rejects.toThrow(TypeError);
  });

  it('enforces the waitUntil window of the spec', async () => {
    const worker = newScope();
    let event: ExtendableEvent | undefined;
    let chained = false;
    self.addEventListener('install', (installEvent) => {
      event = installEvent;
      const first = new Promise((resolve) => setTimeout(resolve, 5));
      installEvent.waitUntil(first);
      // Still allowed: a promise is pending.
      void first.then(() =>
        installEvent.waitUntil(
          new Promise((resolve) =>
            setTimeout(() => {
              chained = true;
              resolve(undefined);
            }, 5),
          ),
        ),
      );
    });

    await worker.install();
    expect(chained).toBe(true);
    expect(() => event?.waitUntil(Promise.resolve())).toThrow(expect.objectContaining({ name: 'InvalidStateError' }) as Error);
    expect(() => new EmulatedExtendableEvent('x').waitUntil(Promise.resolve())).toThrow(DOMException);
  });

  it('fails install with the reason of a rejected waitUntil', async () => {
    const worker = newScope();
    const reason = new Error('precache failed');
    self.addEventListener('install', (event) => {
      event.waitUntil(Promise.resolve());
      event.waitUntil(Promise.reject(reason));
    });

    await expect(worker.install()).rejects.toBe(reason);
    expect(worker.worker.state).toBe('redundant');
  });

  it('walks the lifecycle and lets activate claim clients', async () => {
    const worker = newScope();
    const page = worker.clients.addWindow({ url: '/app', controlled: false });
    self.addEventListener('install', () => void self.skipWaiting());
    self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

    await expect(self.clients.claim()).rejects.toMatchObject({ name: 'InvalidStateError' });
    expect(await self.clients.matchAll()).toEqual([]);
    await worker.install();
    expect(worker.registration.waiting).toBe(worker.worker);
    await worker.activate();
    expect(worker.registration.active?.state).toBe('activated');
    expect(worker.skipWaitingCalls).toBe(1);
    expect(await self.clients.matchAll()).toEqual([page]);
  });

  it('presents navigations with mode navigate, and they can still go to the network', async () => {
    server.use(http.get(`${ORIGIN}/page`, () => HttpResponse.html('<p>network</p>')));
    const worker = newScope();
    let seen: FetchEvent | undefined;
    self.addEventListener('fetch', (event) => {
      seen = event;
      event.respondWith(event.request.mode === 'navigate' ? fetch(event.request) : new Response('asset'));
    });

    const { response } = await worker.fetch('/page', { mode: 'navigate' });
    expect(await response?.text()).toBe('<p>network</p>');
    expect(seen?.request).toMatchObject({ mode: 'navigate', destination: 'document', method: 'GET' });
    expect(seen?.request.clone().mode).toBe('navigate');
    expect(seen?.request.headers.get('accept')).toContain('text/html');
    expect(seen?.clientId).toBe('');
    expect(seen?.resultingClientId).not.toBe('');

    await worker.fetch('/logo.png', { destination: 'image', clientId: 'page-1' });
    expect(seen?.request).toMatchObject({ mode: 'cors', destination: 'image' });
    expect(seen?.clientId).toBe('page-1');
  });

  it('records sync registrations and forgets a tag once its sync succeeded', async () => {
    const worker = newScope();
    let failures = 1;
    self.addEventListener('fetch', (event) => {
      event.waitUntil(self.registration.sync?.register('outbox') ?? Promise.resolve());
    });
    self.addEventListener('sync', (event) => {
      event.waitUntil(failures-- > 0 ? Promise.reject(new Error('offline')) : Promise.resolve());
    });

    await (await worker.fetch('/x')).done;
    expect(await worker.registration.sync.getTags()).toEqual(['outbox']);
    await expect(worker.sync('outbox')).rejects.toThrow('offline');
    expect(await worker.registration.sync.getTags()).toEqual(['outbox']);
    await worker.sync('outbox');
    expect(await worker.registration.sync.getTags()).toEqual([]);
  });

  it('delivers messages and records what the worker posts to pages', async () => {
    const worker = newScope();
    const page = worker.clients.addWindow({ url: '/app' });
    self.addEventListener('message', (event) => {
      event.waitUntil(
        (async () => {
          for (const client of await self.clients.matchAll()) client.postMessage({ echo: event.data });
        })(),
      );
    });

    expect(await worker.message({ type: 'ping' }, page)).toEqual([]);
    expect(page.messages).toEqual([{ echo: { type: 'ping' } }]);
  });
  it('supports handler attributes such as self.onfetch', async () => {
    const worker = newScope();
    Reflect.set(globalThis, 'onfetch', (event: FetchEvent) => event.respondWith(new Response('attr')));

    expect(await (await worker.fetch('/x')).response?.text()).toBe('attr');
  });

  it('lets outstanding waitUntil work finish before teardown removes the globals', async () => {
    const worker = newScope();
    let stored = false;
    self.addEventListener('fetch', (event) => {
      event.waitUntil(
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          await (await caches.open('late')).put('/late', new Response('x'));
          stored = true;
        })(),
      );
    });

    const { done } = await worker.fetch('/x');
    await worker.teardown();
    expect(stored).toBe(true);
    expect(await done).toEqual([]);
  });
});

/** A small worker on the real Workbox, evaluated inside the scope. */
async function workboxWorker(): Promise<void> {
  const { registerRoute } = await import('workbox-routing');
  const { NetworkFirst } = await import('workbox-strategies');
  const { ExpirationPlugin } = await import('workbox-expiration');
  registerRoute(({ url }) => url.pathname.startsWith('/api/'), new NetworkFirst({ cacheName: 'api', plugins: [new ExpirationPlugin({ maxEntries: 2 })] }));
}

describe('Workbox inside the scope', () => {
  it('caches with NetworkFirst, serves the cache when offline, evicts past maxEntries', async () => {
    let online = true;
    server.use(http.get(`${ORIGIN}/api/items/:id`, ({ params }) => (online ? HttpResponse.json({ id: params.id }) : HttpResponse.error())));
    // Distinct timestamps make ExpirationPlugin's least-recently-used order certain.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const worker = (scope = await startWorker({ scriptUrl: SCRIPT_URL }, workboxWorker));

    const first = await worker.fetch('/api/items/1');
    expect(first.handled).toBe(true);
    expect(await first.response?.json()).toEqual({ id: '1' });
    expect(await first.done).toEqual([]);
    expect(await (await worker.caches.open('api')).keys()).toHaveLength(1);

    online = false;
    const offline = await worker.fetch('/api/items/1');
    expect(await offline.response?.json()).toEqual({ id: '1' });
    await offline.done;

    online = true;
    for (const id of ['2', '3']) {
      vi.setSystemTime(Date.now() + 1000);
      await (await worker.fetch(`/api/items/${id}`)).done;
    }
    const urls = (await (await worker.caches.open('api')).keys()).map((request) => request.url);
    expect(urls).toEqual([`${ORIGIN}/api/items/2`, `${ORIGIN}/api/items/3`]);

    const elsewhere = await worker.fetch('/index.html');
    expect(elsewhere.handled).toBe(false);
  });

  it('runs CacheFirst, StaleWhileRevalidate and a NavigationRoute', async () => {
    const served: Record<string, number> = {};
    let version = 'v1';
    const count = (path: string) => {
      served[path] = (served[path] ?? 0) + 1;
    };
    server.use(
      http.get(`${ORIGIN}/static/app.js`, () => {
        count('static');
        return HttpResponse.text('js');
      }),
      http.get(`${ORIGIN}/feed`, () => {
        count('feed');
        return HttpResponse.text(version);
      }),
      http.get(`${ORIGIN}/app`, () => {
        count('app');
        return HttpResponse.html('<p>app</p>');
      }),
    );
    const worker = (scope = await startWorker({ scriptUrl: SCRIPT_URL }, async () => {
      const { NavigationRoute, registerRoute } = await import('workbox-routing');
      const { CacheFirst, NetworkFirst, StaleWhileRevalidate } = await import('workbox-strategies');
      const { ExpirationPlugin } = await import('workbox-expiration');
      registerRoute(({ url }) => url.pathname.startsWith('/static/'), new CacheFirst({ cacheName: 'static', plugins: [new ExpirationPlugin({ maxAgeSeconds: 60 })] }));
      registerRoute(({ url }) => url.pathname === '/feed', new StaleWhileRevalidate({ cacheName: 'feed' }));
      registerRoute(new NavigationRoute(new NetworkFirst({ cacheName: 'pages' })));
    }));

    for (let i = 0; i < 2; i += 1) {
      const { response, done } = await worker.fetch('/static/app.js');
      expect(await response?.text()).toBe('js');
      await done;
    }
    expect(served.static).toBe(1);

    await (await worker.fetch('/feed')).done;
    version = 'v2';
    const stale = await worker.fetch('/feed');
    expect(await stale.response?.text()).toBe('v1');
    await stale.done;
    expect(await (await worker.fetch('/feed')).response?.text()).toBe('v2');

    const page = await worker.fetch('/app', { mode: 'navigate' });
    expect(await page.response?.text()).toBe('<p>app</p>');
    await page.done;
    expect(await worker.caches.match('/app', { cacheName: 'pages' })).toBeInstanceOf(Response);
    expect((await worker.fetch('/app')).handled).toBe(false);
  });

  it('prints Workbox dev logs when asked', async () => {
    const logged = vi.spyOn(console, 'groupCollapsed').mockImplementation(() => {});
    for (const method of ['log', 'debug', 'warn', 'groupEnd'] as const) vi.spyOn(console, method).mockImplementation(() => {});
    server.use(http.get(`${ORIGIN}/api/items/:id`, () => HttpResponse.json({})));
    const worker = (scope = await startWorker({ scriptUrl: SCRIPT_URL, workboxLogs: true }, workboxWorker));

    await (await worker.fetch('/api/items/1')).done;
    expect(logged).toHaveBeenCalled();
    vi.restoreAllMocks();
  });

  it('keeps caches and IndexedDB over a restart, with a fresh Workbox', async () => {
    let online = true;
    server.use(http.get(`${ORIGIN}/api/items/:id`, ({ params }) => (online ? HttpResponse.json({ id: params.id }) : HttpResponse.error())));
    const options = { scriptUrl: SCRIPT_URL, caches: new MemoryCacheStorage(), indexedDB: new IDBFactory() };

    const before = (scope = await startWorker(options, async () => {
      await workboxWorker();
      const { set } = await import('idb-keyval');
      await set('greeting', 'hello');
    }));
    await before.install();
    await before.activate();
    await (await before.fetch('/api/items/7')).done;

    online = false;
    let greeting: unknown;
    const after = (scope = await restartWorker(before, async () => {
      await workboxWorker();
      const { get } = await import('idb-keyval');
      greeting = await get('greeting');
    }));
    expect(greeting).toBe('hello');
    expect(after.worker.state).toBe('activated');
    const { response } = await after.fetch('/api/items/7');
    expect(await response?.json()).toEqual({ id: '7' });

    // A new profile (fresh factory) sees none of it.
    await after.teardown();
    scope = await startWorker({ scriptUrl: SCRIPT_URL }, async () => {
      const { get } = await import('idb-keyval');
      greeting = await get('greeting');
    });
    expect(greeting).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// Stopping like a browser

/** A route whose handler never answers: resolves `arrived` when the request is in, `aborted` when the client gives up. */
function heldRoute(path: string): { arrived: Promise<void>; aborted: Promise<void> } {
  let arrive = () => {};
  let abort = () => {};
  const held = { arrived: new Promise<void>((resolve) => (arrive = resolve)), aborted: new Promise<void>((resolve) => (abort = resolve)) };
  server.use(
    http.all(`${ORIGIN}${path}`, ({ request }) => {
      request.signal.addEventListener('abort', abort);
      arrive();
      return new Promise<never>(() => {});
    }),
  );
  return held;
}

/** Reads one value with the IndexedDB API the calling code sees (`indexedDB`, per instance). */
function idbRead(name: string, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('s');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('s').objectStore('s').get(key);
      get.onsuccess = () => {
        open.result.close();
        resolve(get.result);
      };
      get.onerror = () => reject(get.error);
    };
  });
}

function idbWrite(name: string, key: string, value: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('s');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const transaction = open.result.transaction('s', 'readwrite');
      transaction.objectStore('s').put(value, key);
      transaction.oncomplete = () => {
        open.result.close();
        resolve();
      };
      transaction.onerror = () => reject(transaction.error);
    };
  });
}

describe('kill(): a browser stopping the worker abruptly', () => {
  it('aborts the fetches in flight, does not wait for waitUntil work, and puts the globals back', async () => {
    const slow = heldRoute('/slow');
    const worker = newScope();
    let workerSaw: unknown;
    self.addEventListener('fetch', (event) => {
      event.waitUntil(
        fetch('/slow').catch((error: unknown) => {
          workerSaw = error;
          throw error;
        }),
      );
      event.waitUntil(new Promise(() => {}));
    });

    const { done } = await worker.fetch('/x');
    await slow.arrived;
    expect(worker.pendingEvents).toBe(1);
    await worker.kill();

    expect(workerSaw).toMatchObject({ name: 'AbortError' });
    expect(await done).toEqual([expect.objectContaining({ name: 'AbortError' })]);
    await slow.aborted;
    expect(worker.running).toBe(false);
    expect('self' in globalThis).toBe(false);
    await expect(worker.fetch('/x')).rejects.toThrow(/stopped/);
  });

  it('clears its timers, aborts its unfinished IndexedDB transactions unseen, closes its connections and its channels', async () => {
    const worker = newScope();
    let timerFired = false;
    let channel: BroadcastChannel | undefined;
    let db: IDBDatabase | undefined;
    const heard: string[] = [];
    let writing = () => {};
    const inTransaction = new Promise<void>((resolve) => (writing = resolve));
    self.addEventListener('message', (event) => {
      setTimeout(() => (timerFired = true), 5);
      channel = new BroadcastChannel('sw-scope-test');
      event.waitUntil(
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('kill-test', 1);
          open.onupgradeneeded = () => open.result.createObjectStore('s');
          open.onsuccess = () => {
            db = open.result;
            const transaction = db.transaction('s', 'readwrite');
            transaction.onabort = () => reject(heard.push('abort'));
            transaction.oncomplete = () => resolve(void heard.push('complete'));
            const store = transaction.objectStore('s');
            store.put('written', 'key');
            // Keeps the transaction from committing until the worker is killed.
            const spin = () => {
              const get = store.get('key');
              get.onsuccess = spin;
              get.onerror = () => heard.push('request error');
            };
            spin();
            writing();
          };
        }),
      );
    });

    const done = worker.message('go');
    await inTransaction;
    await worker.kill();
    expect(await done).toEqual([expect.objectContaining({ name: 'AbortError' })]);

    // Set after the worker's 5 ms timer, for longer: Node fires it after the worker's would have fired.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(timerFired).toBe(false);
    // The connection is closed, and the stopped code heard nothing of the abort.
    expect(() => db?.transaction('s')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }) as Error);
    expect(heard).toEqual([]);
    expect(() => channel?.postMessage('late')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }) as Error);
    // Read with the same factory outside any worker: the write did not land.
    Reflect.set(globalThis, 'indexedDB', worker.indexedDB);
    try {
      expect(await idbRead('kill-test', 'key')).toBeUndefined();
    } finally {
      Reflect.deleteProperty(globalThis, 'indexedDB');
    }
  });

  it('fails the page fetch it had not answered, and a pending ask()', async () => {
    const worker = newScope();
    self.addEventListener('fetch', (event) => event.respondWith(new Promise<Response>(() => {})));
    self.addEventListener('message', (event) => event.waitUntil(new Promise(() => {})));

    const page = expect(worker.fetch('/x')).rejects.toThrow(TypeError);
    const asked = expect(worker.ask({ op: 'never answered' })).rejects.toMatchObject({ name: 'AbortError' });
    await worker.kill();
    await page;
    await asked;
  });

  it("refuses the killed instance's late code, also under the next instance's globals, and leaves the next one untouched", async () => {
    server.use(http.get(`${ORIGIN}/data`, () => HttpResponse.text('data')));
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let finished = () => {};
    const lateDone = new Promise<void>((resolve) => (finished = resolve));
    const late: Record<string, unknown> = {};
    const options = { scriptUrl: SCRIPT_URL, caches: new MemoryCacheStorage(), indexedDB: new IDBFactory() };
    const failure = (error: unknown) => (error as Error).name;

    const before = (scope = await startWorker(options, async () => {
      self.addEventListener('message', () => {
        // Work no waitUntil holds, resumed after the kill.
        void (async () => {
          await gate;
          late.fetch = await fetch('/data').then(() => 'fetched', failure);
          late.cache = await caches.open('late').then(() => 'opened', failure);
          setTimeout(() => (late.timer = 'fired'), 0);
          try {
            new BroadcastChannel('late').postMessage('late');
            late.channel = 'posted';
          } catch (error) {
            late.channel = failure(error);
          }
          late.idb = await idbWrite('late-db', 'key', 'late').then(() => 'written', failure);
          finished();
        })();
      });
    }));
    await before.message('start');
    const after = (scope = await killWorker(before, async () => {}));
    expect(after.running).toBe(true);
    open();
    await lateDone;
    // Later than the late 0 ms timer: it would have fired by now.
    await new Promise((resolve) => setTimeout(resolve, 5));

    expect(late).toEqual({ fetch: 'AbortError', cache: 'InvalidStateError', channel: 'InvalidStateError', idb: 'AbortError' });
    expect(await after.run(async () => (await fetch('/data')).text())).toBe('data');
    expect(await after.caches.keys()).toEqual([]);
    expect(await after.run(() => idbRead('late-db', 'key'))).toBeUndefined();
  });
});

describe('stopping an idle worker', () => {
  it('stopIfIdle() refuses while an event is pending; stopWhenIdle() waits for it, then abandons work outside waitUntil', async () => {
    const unheld = heldRoute('/unheld');
    const worker = newScope();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let outcome = 'running';
    self.addEventListener('message', (event) => {
      // Started outside waitUntil, as an unheld syncNow() is.
      void fetch('/unheld').then(
        () => (outcome = 'answered'),
        (error: Error) => (outcome = error.name),
      );
      event.waitUntil(held);
    });

    void worker.message('go');
    await unheld.arrived;
    expect(await worker.stopIfIdle()).toBe(false);
    expect(worker.running).toBe(true);
    const stopping = worker.stopWhenIdle();
    expect(worker.running).toBe(true);
    release();
    await stopping;

    expect(worker.running).toBe(false);
    await unheld.aborted;
    await vi.waitFor(() => expect(outcome).toBe('AbortError'));
    expect('self' in globalThis).toBe(false);
  });

  it('stopIfIdle() stops a worker with no event pending at once', async () => {
    const worker = newScope();
    self.addEventListener('message', (event) => event.waitUntil(Promise.resolve()));
    await worker.message('go');
    expect(worker.pendingEvents).toBe(0);
    expect(await worker.stopIfIdle()).toBe(true);
    expect(worker.running).toBe(false);
    expect('self' in globalThis).toBe(false);
  });

  it("teardown drains by default; with stop: 'when-idle' it abandons work outside waitUntil", async () => {
    const lateWrite = () => {
      self.addEventListener('message', () => {
        void (async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          await (await caches.open('late')).put('/late', new Response('x'));
        })();
      });
    };
    const gentle = (scope = createServiceWorkerScope({ scriptUrl: SCRIPT_URL }));
    lateWrite();
    await gentle.message('go');
    await gentle.teardown();
    expect(await gentle.caches.has('late')).toBe(true);

    const realistic = (scope = createServiceWorkerScope({ scriptUrl: SCRIPT_URL, stop: 'when-idle' }));
    lateWrite();
    await realistic.message('go');
    await realistic.teardown();
    // Later than the worker's 5 ms timer.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await realistic.caches.has('late')).toBe(false);
  });
});

describe('two instances of one registration (startNextWorker)', () => {
  it('each has its own modules, listeners and location; they share the registration, caches and IndexedDB', async () => {
    let networkHits = 0;
    server.use(
      http.get(`${ORIGIN}/api/items/:id`, ({ params }) => {
        networkHits += 1;
        return HttpResponse.json({ id: params.id });
      }),
    );
    const heard: string[] = [];
    const older = (scope = await startWorker({ scriptUrl: SCRIPT_URL }, async () => {
      await workboxWorker(); // NetworkFirst into the 'api' cache
      self.addEventListener('message', (event) => void heard.push(`older ${new URL(self.location.href).search} ${String(event.data)}`));
    }));
    await older.install();
    await older.activate();
    const newer = (next = await startNextWorker(
      older,
      async () => {
        // A fresh Workbox: its default router is not the older instance's.
        const { registerRoute } = await import('workbox-routing');
        const { CacheOnly } = await import('workbox-strategies');
        registerRoute(({ url }) => url.pathname.startsWith('/api/'), new CacheOnly({ cacheName: 'api' }));
        self.addEventListener('message', (event) => void heard.push(`newer ${new URL(self.location.href).search} ${String(event.data)}`));
      },
      { scriptUrl: `${SCRIPT_URL}&v=2` },
    ));

    await older.message('a');
    await newer.message('b');
    expect(heard).toEqual(['older ?manifest=/m.json a', 'newer ?manifest=/m.json&v=2 b']);

    // Cached by the older one's NetworkFirst, served by the newer one's CacheOnly.
    await (await older.fetch('/api/items/1')).done;
    expect(await (await newer.fetch('/api/items/1')).response?.json()).toEqual({ id: '1' });
    await expect(newer.fetch('/api/items/2')).rejects.toThrow();
    expect(networkHits).toBe(1);

    // One IndexedDB, a connection each.
    await older.run(() => idbWrite('shared', 'from', 'older'));
    expect(await newer.run(() => idbRead('shared', 'from'))).toBe('older');

    // An update's lifecycle in one registration.
    await newer.install();
    expect(older.registration).toBe(newer.registration);
    expect(newer.registration.waiting).toBe(newer.worker);
    expect(newer.registration.active).toBe(older.worker);
    await newer.activate();
    expect(newer.registration.active).toBe(newer.worker);
    expect(older.worker.state).toBe('redundant');

    // The older one stops; the newer one runs on, on the same globals.
    await older.kill();
    expect('self' in globalThis).toBe(true);
    expect(await newer.run(() => idbRead('shared', 'from'))).toBe('older');
    await newer.message('c');
    expect(heard.at(-1)).toBe('newer ?manifest=/m.json&v=2 c');
    await newer.teardown();
    expect('self' in globalThis).toBe(false);
  });

  it('two instances of the real worker share its outbox: a write one queued, the other replays once', async () => {
    const manifest = { version: 1, routes: [{ match: '/api/notes/:id', methods: ['POST'], queue: {} }] };
    let online = false;
    const received: string[] = [];
    server.use(
      http.get(`${ORIGIN}/m.json`, () => HttpResponse.json(manifest)),
      http.post(`${ORIGIN}/api/notes/:id`, async ({ request }) => {
        if (!online) return HttpResponse.error();
        received.push(await request.text());
        return HttpResponse.json({}, { status: 201 });
      }),
    );
    const importWorker = () => import('../../sw/sw-entry.js');
    const ask = async (worker: ServiceWorkerScope, op: string) =>
      ((await worker.ask({ kind: 'outbox-request', v: 1, op, args: {} })) as { ok: boolean; value: { pending: number } }).value;

    const older = (scope = await startWorker({ scriptUrl: SCRIPT_URL }, importWorker));
    await older.install();
    await older.activate();
    const queued = await older.fetch(`${ORIGIN}/api/notes/1`, { method: 'POST', body: '{"n":1}' });
    expect(queued.response?.status).toBe(202);
    await queued.done;

    const newer = (next = await startNextWorker(older, importWorker));
    await newer.install();
    expect((await ask(newer, 'status')).pending).toBe(1);
    online = true;
    await ask(newer, 'sync-now');
    expect(received).toEqual(['{"n":1}']);
    expect((await ask(older, 'status')).pending).toBe(0);
  });
});

describe('opaque redirects', () => {
  it("gives fetch with redirect: 'manual' the browser's opaqueredirect for a 3xx, and leaves other answers alone", async () => {
    server.use(
      http.all(`${ORIGIN}/moved`, () => new HttpResponse(null, { status: 302, headers: { location: '/login' } })),
      http.get(`${ORIGIN}/temporary`, () => new HttpResponse('gone there', { status: 307, headers: { location: '/login' } })),
      http.get(`${ORIGIN}/login`, () => HttpResponse.text('login page')),
      http.get(`${ORIGIN}/plain`, () => HttpResponse.text('plain')),
    );
    const worker = newScope();
    const seen = await worker.run(async () => ({
      manual: await fetch('/moved', { redirect: 'manual' }),
      fromRequest: await fetch(new Request(`${ORIGIN}/moved`, { method: 'POST', body: 'x', redirect: 'manual' })),
      temporary: await fetch(`${ORIGIN}/temporary`, { redirect: 'manual' }),
      followed: await fetch('/moved'),
      notRedirected: await fetch('/plain', { redirect: 'manual' }),
    }));

    for (const [name, url] of [
      ['manual', '/moved'],
      ['fromRequest', '/moved'],
      ['temporary', '/temporary'],
    ] as const) {
      const response = seen[name];
      expect(response, name).toBeInstanceOf(OpaqueRedirectResponse);
      expect(response, name).toBeInstanceOf(Response);
      expect(
        { type: response.type, status: response.status, ok: response.ok, statusText: response.statusText, redirected: response.redirected, url: response.url, body: response.body },
        name,
      ).toEqual({ type: 'opaqueredirect', status: 0, ok: false, statusText: '', redirected: false, url: `${ORIGIN}${url}`, body: null });
      expect([...response.headers], name).toEqual([]);
      expect(response.clone().type, name).toBe('opaqueredirect');
    }
    expect({ status: seen.followed.status, redirected: seen.followed.redirected, text: await seen.followed.text() }).toEqual({ status: 200, redirected: true, text: 'login page' });
    expect({ type: seen.notRedirected.type, status: seen.notRedirected.status, text: await seen.notRedirected.text() }).toEqual({ type: 'default', status: 200, text: 'plain' });
  });
});
