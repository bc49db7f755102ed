import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { restartWorker, startWorker, type ServiceWorkerScope } from '../support/sw-scope.js';

const ORIGIN = 'http://127.0.0.1:8080';
const importWorker = () => import('../../sw/sw-entry.js');

const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/api/items', cache: { strategy: 'network-first', networkTimeoutSeconds: 0.2 } },
    { match: '/api/items/:id', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/assets/*', cache: { strategy: 'cache-first', maxEntries: 2 } },
    { match: '/api/live', cache: { strategy: 'network-only', networkTimeoutSeconds: 0.2 } },
    { match: '/api/maybe', cache: { strategy: 'network-first', statuses: [200, 404] } },
    { match: '/img/*', origin: 'https://cdn.example', cache: { strategy: 'cache-first' } },
  ],
};

/** Counts what the "server" (MSW) was asked, per method and path. */
const hits = new Map<string, number>();
const count = (request: Request) => {
  const key = `${request.method} ${new URL(request.url).pathname}`;
  hits.set(key, (hits.get(key) ?? 0) + 1);
};
const hitsOf = (key: string) => hits.get(key) ?? 0;

let online = true;
let version = 0;
const server = setupServer(
  http.get(`${ORIGIN}/offline.manifest.json`, () => HttpResponse.json(manifest)),
  http.all('*', ({ request }) => {
    count(request);
    if (!online) return HttpResponse.error();
  }),
  http.get(`${ORIGIN}/`, () => new HttpResponse('<h1>shell</h1>', { headers: { 'content-type': 'text/html' } })),
  http.get(`${ORIGIN}/api/items`, () => HttpResponse.json({ version: ++version })),
  http.get(`${ORIGIN}/api/items/:id`, ({ params }) => HttpResponse.json({ id: params.id, version: ++version })),
  http.get(`${ORIGIN}/assets/:name`, ({ params }) => new HttpResponse(`asset ${String(params.name)}`)),
  http.get(`${ORIGIN}/api/live`, () => HttpResponse.json({ version: ++version })),
  http.get(`${ORIGIN}/api/secret`, () => HttpResponse.json({ token: 'x' }, { headers: { 'cache-control': 'no-store' } })),
  http.get(`${ORIGIN}/api/maybe`, () => HttpResponse.json({ missing: true }, { status: 404 })),
  http.get(`${ORIGIN}/elsewhere`, () => new HttpResponse('from network')),
  http.post(`${ORIGIN}/api/items`, () => HttpResponse.json({ created: true }, { status: 201 })),
  http.get('https://cdn.example/img/:name', () => new HttpResponse('image')),
  http.get('https://other.example/img/:name', () => new HttpResponse('other image')),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

let scope: ServiceWorkerScope | undefined;
afterEach(async () => {
  await scope?.teardown();
  scope = undefined;
  server.resetHandlers();
  hits.clear();
  online = true;
  vi.restoreAllMocks();
});

async function installedWorker(scriptUrl = `${ORIGIN}/sw.js`): Promise<ServiceWorkerScope> {
  scope = await startWorker({ scriptUrl }, importWorker);
  await scope.install();
  await scope.activate();
  return scope;
}

/** A network that does not answer until the test opens the gate: slower than any timeout, without racing a timer. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Fetches through the worker and returns what the page would see. */
async function get(path: string, init?: Parameters<ServiceWorkerScope['fetch']>[1]) {
  const outcome = await scope!.fetch(new URL(path, ORIGIN).href, init);
  expect(await outcome.done).toEqual([]);
  return { handled: outcome.handled, status: outcome.response?.status, body: await outcome.response?.text() };
}

describe('the drop-in worker', () => {
  it('fetches its manifest once at install, past the HTTP cache, and routes with it', async () => {
    const fetched: RequestCache[] = [];
    server.use(http.get(`${ORIGIN}/offline.manifest.json`, ({ request }) => (fetched.push(request.cache), HttpResponse.json(manifest))));
    await installedWorker();
    expect(fetched).toEqual(['no-cache']);
    expect(await get('/api/items')).toMatchObject({ handled: true, status: 200, body: JSON.stringify({ version }) });
    expect(await (await scope!.caches.match(`${ORIGIN}/api/items`))?.json()).toEqual({ version });
  });

  it('leaves a request no route matches alone: no respondWith', async () => {
    await installedWorker();
    expect(await get('/elsewhere')).toEqual({ handled: false, status: undefined, body: undefined });
    expect(await scope!.fetch(`${ORIGIN}/api/items`, { method: 'POST', body: '{}' })).toMatchObject({ handled: false });
    expect(await get('https://other.example/img/a.png')).toMatchObject({ handled: false });
    expect(await get(`${ORIGIN}/offline.manifest.json`)).toMatchObject({ handled: false });
  });

  it('a restarted worker routes its very first request with the stored manifest, no network needed', async () => {
    await installedWorker();
    const online1 = await get('/api/items');
    // The manifest can no longer be fetched, and the network is gone.
    server.use(http.get(`${ORIGIN}/offline.manifest.json`, () => HttpResponse.error()));
    online = false;
    scope = await restartWorker(scope!, importWorker);
    expect(await get('/api/items')).toEqual({ handled: true, status: 200, body: online1.body });
  });

  it('a restarted worker passes an unmatched first request to the network unchanged, then stops touching them', async () => {
    await installedWorker();
    scope = await restartWorker(scope!, importWorker);
    const received: string[] = [];
    server.use(http.post(`${ORIGIN}/elsewhere`, async ({ request }) => (received.push(await request.text()), new HttpResponse('ok'))));
    const cold = await scope.fetch(`${ORIGIN}/elsewhere`, { method: 'POST', body: 'payload' });
    expect(await cold.response?.text()).toBe('ok');
    expect(received).toEqual(['payload']);
    const warm = await scope.fetch(`${ORIGIN}/elsewhere`, { method: 'POST', body: 'again' });
    expect(warm.handled).toBe(false);
  });

  it('serves a navigation matched by URL from the cache when offline', async () => {
    await installedWorker();
    expect(await get('/', { mode: 'navigate' })).toMatchObject({ handled: true, body: '<h1>shell</h1>' });
    online = false;
    expect(await get('/', { mode: 'navigate' })).toMatchObject({ handled: true, status: 200, body: '<h1>shell</h1>' });
  });
});

describe('strategies', () => {
  it('network-first falls back to the cache when the network is slower than networkTimeoutSeconds', async () => {
    await installedWorker();
    const fresh = await get('/api/items');
    const network = gate();
    server.use(http.get(`${ORIGIN}/api/items`, async () => (await network.opened, HttpResponse.json({ late: true }))));
    const slow = await scope!.fetch(`${ORIGIN}/api/items`);
    expect(await slow.response?.text()).toBe(fresh.body);
    // The late answer still goes to the cache, for next time. (Workbox's
    // NetworkFirst stores it without extending the event past its answer:
    // wait for the store, bounded.)
    network.open();
    expect(await slow.done).toEqual([]);
    await vi.waitFor(async () => expect(await (await scope!.caches.match(`${ORIGIN}/api/items`))?.json()).toEqual({ late: true }), { timeout: 2000 });
  });

  it('network-first fails like the network when nothing is cached', async () => {
    await installedWorker();
    // The install cached this exact-path route (a first visit opens offline): forget it.
    await scope!.caches.delete(`offline-outbox:${ORIGIN}/:/api/items`);
    online = false;
    await expect(scope!.fetch(`${ORIGIN}/api/items`)).rejects.toThrow();
  });

  it('stale-while-revalidate answers from the cache and refreshes it in the background', async () => {
    await installedWorker();
    const first = await get('/api/items/7');
    const second = await get('/api/items/7');
    expect(second.body).toBe(first.body);
    expect(hitsOf('GET /api/items/7')).toBe(2);
    const third = await get('/api/items/7');
    expect(JSON.parse(third.body!)).toEqual({ id: '7', version: JSON.parse(first.body!).version + 1 });
  });

  it('cache-first does not touch the network on a hit, and expires beyond maxEntries', async () => {
    await installedWorker();
    for (const name of ['a.css', 'b.css', 'a.css', 'c.css']) await get(`/assets/${name}`);
    expect(hitsOf('GET /assets/a.css')).toBe(1);
    const cache = await scope!.caches.open(`offline-outbox:${ORIGIN}/:/assets/*`);
    expect((await cache.keys()).map((r) => new URL(r.url).pathname).sort()).toEqual(['/assets/a.css', '/assets/c.css']);
  });

  it('network-only never stores, and fails after networkTimeoutSeconds', async () => {
    await installedWorker();
    await get('/api/live');
    expect(await scope!.caches.match(`${ORIGIN}/api/live`)).toBeUndefined();
    const network = gate();
    server.use(http.get(`${ORIGIN}/api/live`, async () => (await network.opened, HttpResponse.json({}))));
    // Workbox's NetworkOnly gives up after networkTimeoutSeconds with its no-response error, the gate still shut.
    await expect(scope!.fetch(`${ORIGIN}/api/live`)).rejects.toMatchObject({
      name: 'no-response',
      details: { error: { message: 'Timed out the network response after 0.2 seconds.' } },
    });
    network.open();
  });
});

describe('what is stored', () => {
  it('never a no-store response, and only 2xx unless the route lists statuses', async () => {
    await installedWorker();
    // What the install cached for a first visit is not what this test is about.
    for (const name of await scope!.caches.keys()) await scope!.caches.delete(name);
    server.use(http.get(`${ORIGIN}/api/items`, () => HttpResponse.json({ secret: true }, { headers: { 'cache-control': 'no-store' } })));
    await get('/api/items');
    server.use(http.get(`${ORIGIN}/api/items/:id`, () => HttpResponse.json({}, { status: 500 })));
    await get('/api/items/1');
    await get('/api/maybe');
    const stored = [];
    for (const name of await scope!.caches.keys()) for (const r of await (await scope!.caches.open(name)).keys()) stored.push(new URL(r.url).pathname);
    expect(stored).toEqual(['/api/maybe']);
  });

  it('cross-origin only where a route names the origin', async () => {
    await installedWorker();
    expect(await get('https://cdn.example/img/a.png')).toMatchObject({ handled: true, body: 'image' });
    online = false;
    expect(await get('https://cdn.example/img/a.png')).toMatchObject({ handled: true, body: 'image' });
  });
});

describe('install and activation', () => {
  it('fails the install on an invalid manifest, says why on the channel, and keeps the stored one', async () => {
    await installedWorker();
    await get('/api/items');
    server.use(http.get(`${ORIGIN}/offline.manifest.json`, () => HttpResponse.json({ version: 1, routes: [{ match: '/api/items', cahce: {} }] })));
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    scope = await restartWorker(scope!, importWorker);
    const channel = new BroadcastChannel('offline-outbox');
    const heard = new Promise<unknown>((resolve) => channel.addEventListener('message', (e) => resolve((e as MessageEvent).data), { once: true }));
    await expect(scope.install()).rejects.toMatchObject({ name: 'OutboxError', code: 'invalid-manifest' });
    expect(await heard).toEqual({
      type: 'install-failed',
      v: 1,
      manifestUrl: `${ORIGIN}/offline.manifest.json`,
      errors: ['routes[0].cahce: unknown field; did you mean "cache"?'],
    });
    expect(String(errors.mock.calls[0]?.[0])).toContain('routes[0].cahce: unknown field');
    channel.close();
    // The active worker, restarted, still has the manifest that was valid.
    online = false;
    scope = await restartWorker(scope, importWorker);
    expect(await get('/api/items')).toMatchObject({ handled: true, status: 200 });
  });

  it('with a page open, leaves printing the failure to that page: the console shows it once', async () => {
    await installedWorker();
    server.use(http.get(`${ORIGIN}/offline.manifest.json`, () => HttpResponse.json({ version: 1, routes: [{ match: '/api/items', cache: { strategy: 'sometimes' } }] })));
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    scope = await restartWorker(scope!, importWorker);
    // The page that registered the new worker: not controlled by it, but open.
    scope.clients.addWindow({ url: '/', controlled: false });
    const channel = new BroadcastChannel('offline-outbox');
    const heard = new Promise<unknown>((resolve) => channel.addEventListener('message', (e) => resolve((e as MessageEvent).data), { once: true }));
    await expect(scope.install()).rejects.toMatchObject({ code: 'invalid-manifest' });
    expect(await heard).toMatchObject({ type: 'install-failed', errors: [expect.stringContaining('routes[0].cache.strategy')] });
    channel.close();
    expect(errors).not.toHaveBeenCalled();
  });

  it('fails the install when the manifest is missing', async () => {
    server.use(http.get(`${ORIGIN}/offline.manifest.json`, () => new HttpResponse('not found', { status: 404 })));
    vi.spyOn(console, 'error').mockImplementation(() => {});
    scope = await startWorker({ scriptUrl: `${ORIGIN}/sw.js` }, importWorker);
    await expect(scope.install()).rejects.toMatchObject({ code: 'manifest-unreachable', message: expect.stringContaining('HTTP 404') });
  });

  it('reads the manifest from ?manifest= of its registration', async () => {
    server.use(http.get(`${ORIGIN}/config/m.json`, () => HttpResponse.json({ version: 1, routes: [{ match: '/elsewhere', cache: { strategy: 'network-first' } }] })));
    await installedWorker(`${ORIGIN}/sw.js?manifest=/config/m.json&v=1`);
    expect(await get('/elsewhere')).toMatchObject({ handled: true, body: 'from network' });
    expect(await get('/api/items')).toMatchObject({ handled: false });
  });

  it('deletes the caches of routes a new manifest dropped, and no one else’s', async () => {
    await installedWorker();
    await get('/api/items');
    await get('/assets/a.css');
    await scope!.caches.open('someone-elses-cache');
    server.use(http.get(`${ORIGIN}/offline.manifest.json`, () => HttpResponse.json({ version: 1, routes: [manifest.routes[1]] })));
    scope = await restartWorker(scope!, importWorker);
    await scope.install();
    await scope.activate();
    expect((await scope.caches.keys()).sort()).toEqual([`offline-outbox:${ORIGIN}/:/api/items`, 'someone-elses-cache']);
  });
  it('keeps every cache when the worker was stopped between install and activate', async () => {
    await installedWorker();
    await get('/api/items');
    await get('/assets/a.css');
    const before = (await scope!.caches.keys()).sort();
    scope = await restartWorker(scope!, importWorker);
    await scope.install();
    scope = await restartWorker(scope, importWorker);
    await scope.activate();
    expect((await scope.caches.keys()).sort()).toEqual(before);
  });
});

describe('installOutbox with a manifest object', () => {
  it('throws at once, naming every problem, so the script fails to evaluate', async () => {
    scope = await startWorker({ scriptUrl: `${ORIGIN}/own-sw.js` }, async () => {});
    const { installOutbox } = await import('../../sw/index.js');
    expect(() => installOutbox({ version: 1, routes: [{ match: 'api', cache: { strategy: 'network-first' } }] } as never)).toThrowError(
      /the manifest passed to installOutbox\(\) is not a valid offline-outbox manifest \(1 problem\); fix it and reload:\n {2}routes\[0\]\.match: a path pattern starts with "\/"; got "api"/,
    );
  });

  it('routes from its first event with no install-time fetch', async () => {
    server.use(http.get(`${ORIGIN}/offline.manifest.json`, () => HttpResponse.error()));
    scope = await startWorker({ scriptUrl: `${ORIGIN}/own-sw.js`, activated: true }, async () => {
      const { installOutbox } = await import('../../sw/index.js');
      installOutbox({ version: 1, routes: [{ match: '/api/items', cache: { strategy: 'network-first' } }] });
    });
    expect(await get('/api/items')).toMatchObject({ handled: true, status: 200 });
    expect(await get('/elsewhere')).toMatchObject({ handled: false });
  });
});
