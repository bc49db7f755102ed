import { HttpResponse, delay } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { movableClock, outboxSuite, entries, installWorker, send, status, syncNow } from '../support/outbox-harness.js';
import type { ServiceWorkerScope } from '../support/sw-scope.js';

const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/api/notes/:id', methods: ['POST', 'PUT', 'PATCH', 'DELETE'], queue: {} },
    { match: '/api/urgent/:id', methods: ['POST'], queue: { priority: 'high' } },
    { match: '/api/later/:id', methods: ['POST'], queue: { priority: 'low' } },
    { match: '/api/limited/:id', methods: ['POST'], queue: { maxAttempts: 2, maxBodyBytes: 10 } },
    { match: '/api/lock/:id', methods: ['POST'], queue: { retryStatuses: [409] } },
    { match: '/api/private/:id', methods: ['POST'], queue: { redactHeaders: ['X-Secret'] } },
  ],
};

let scope: ServiceWorkerScope;
const net = outboxSuite(manifest, () => scope);

const UUID = /^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$/;
const json = (value: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Queues `n` writes offline, then goes back online; returns their ids. */
async function queueOffline(paths: string[]): Promise<string[]> {
  net.online = false;
  const ids: string[] = [];
  for (const [i, path] of paths.entries()) {
    const r = await send(scope, path, json({ n: i }));
    expect(r.status).toBe(202);
    ids.push(r.headers['x-outbox-queued']!);
  }
  net.online = true;
  return ids;
}

describe('a write the manifest routes', () => {
  it('goes to the network first, stamped with a quoted UUID Idempotency-Key, and its answer reaches the page', async () => {
    scope = await installWorker();
    net.behave(() => HttpResponse.json({ saved: true }, { status: 201 }));
    const r = await send(scope, '/api/notes/1', json({ a: 1 }));
    expect(r).toMatchObject({ handled: true, status: 201, text: '{"saved":true}' });
    expect(net.received).toHaveLength(1);
    expect(net.received[0]!.key).toMatch(UUID);
    expect(await status(scope)).toMatchObject({ pending: 0, inFlight: 0 });
  });

  it("keeps the app's own Idempotency-Key", async () => {
    scope = await installWorker();
    await send(scope, '/api/notes/1', { method: 'PUT', headers: { 'idempotency-key': '"mine-1"' }, body: 'x' });
    expect(net.received[0]!.key).toBe('"mine-1"');
  });

  it('is queued on a network error and answered 202 once stored, with the id in a header and the body', async () => {
    scope = await installWorker();
    net.online = false;
    const r = await send(scope, '/api/notes/1', json({ a: 1 }));
    expect(r.status).toBe(202);
    const id = r.headers['x-outbox-queued']!;
    expect(JSON.parse(r.text!)).toEqual({ queued: true, id });
    expect(await status(scope)).toMatchObject({ pending: 1, inFlight: 0, conflicts: 0, auth: 0, dead: 0 });
    const [entry] = await entries(scope);
    expect(entry).toMatchObject({ id, method: 'POST', url: 'http://127.0.0.1:8080/api/notes/1', group: '/api/notes/1', state: 'pending', attempts: 0, bodyBytes: 7, priority: 5 });
    expect(entry).not.toHaveProperty('body');
    expect(entry).not.toHaveProperty('headers');
  });

  it.each([408, 429, 500, 502, 503, 504])('is queued when the server answers %i', async (code) => {
    scope = await installWorker();
    net.behave(() => new HttpResponse(null, { status: code }));
    expect((await send(scope, '/api/notes/1', json({}))).status).toBe(202);
    expect((await status(scope)).pending).toBe(1);
  });

  it('passes other answers (400, 409) to the page and queues nothing', async () => {
    scope = await installWorker();
    net.behave(() => HttpResponse.json({ error: 'bad' }, { status: 400 }));
    expect(await send(scope, '/api/notes/1', json({}))).toMatchObject({ status: 400, text: '{"error":"bad"}' });
    expect((await status(scope)).pending).toBe(0);
  });

  it('is queued on a timeout (networkTimeoutSeconds)', async () => {
    manifest.routes[1]!.queue = { networkTimeoutSeconds: 0.1 } as never;
    try {
      scope = await installWorker();
      net.behave(async () => (await delay(1000), undefined));
      expect((await send(scope, '/api/notes/1', json({}))).status).toBe(202);
    } finally {
      manifest.routes[1]!.queue = {};
    }
  });

  it('waits behind its group: with writes queued for a resource, the next goes straight to the outbox', async () => {
    scope = await installWorker();
    await queueOffline(['/api/notes/1']);
    net.behave(() => new HttpResponse(null, { status: 503 })); // keep the first one waiting
    expect((await send(scope, '/api/notes/1', json({ second: true }))).status).toBe(202);
    expect(net.received).toEqual([]);
    expect((await send(scope, '/api/notes/2', json({ other: true }))).status).toBe(202); // 503 live → queued
    expect(net.received.map((r) => r.path)).toEqual(['/api/notes/2']);
  });

  it('answers a classic form post (a navigation) with 303 back to the referring page', async () => {
    scope = await installWorker();
    net.online = false;
    const outcome = await scope.fetch('http://127.0.0.1:8080/api/notes/1', {
      method: 'POST',
      mode: 'navigate',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'title=hi',
      referrer: 'http://127.0.0.1:8080/notes?page=2',
    });
    expect(outcome.response!.status).toBe(303);
    expect(outcome.response!.headers.get('location')).toBe('http://127.0.0.1:8080/notes?page=2');
    expect((await entries(scope))[0]).toMatchObject({ priority: 8, method: 'POST' });
  });

  it('refuses a body over maxBodyBytes that cannot be sent, with a JSON error, and sends it when it can', async () => {
    scope = await installWorker();
    net.online = false;
    const r = await send(scope, '/api/limited/1', { body: '12345678901' });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text!)).toMatchObject({ error: 'body-too-large', message: expect.stringContaining('its body (11 bytes) is over maxBodyBytes (10)') });
    expect((await status(scope)).pending).toBe(0);
    net.online = true;
    expect((await send(scope, '/api/limited/1', { body: '12345678901' })).status).toBe(201);
  });

  it('answers 507 when storage is full and keeps what was queued before', async () => {
    scope = await installWorker();
    await queueOffline(['/api/notes/1']);
    net.online = false;
    const store = (await import('fake-indexeddb')).IDBObjectStore.prototype;
    const add = store.add;
    vi.spyOn(store, 'add').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
      if (this.name === 'entries') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return add.apply(this, args);
    });
    const r = await send(scope, '/api/notes/2', json({ big: true }));
    expect(r.status).toBe(507);
    expect(JSON.parse(r.text!)).toMatchObject({ error: 'storage-full' });
    vi.restoreAllMocks();
    expect(await status(scope)).toMatchObject({ pending: 1 });
    expect((await entries(scope)).map((e) => e.url)).toEqual(['http://127.0.0.1:8080/api/notes/1']);
  });

  it('sends redacted headers live, and does not store them for a replay', async () => {
    scope = await installWorker();
    await send(scope, '/api/private/1', { headers: { 'x-secret': 's', 'x-other': '1' }, body: 'live' });
    expect(net.received[0]!.headers).toMatchObject({ 'x-secret': 's', 'x-other': '1' });
    net.online = false;
    await send(scope, '/api/private/1', { headers: { 'x-secret': 's', 'x-other': '1' }, body: 'x' });
    net.online = true;
    await syncNow(scope);
    expect(net.received).toHaveLength(2);
    expect(net.received[1]!.headers).toMatchObject({ 'x-other': '1', 'idempotency-key': expect.stringMatching(UUID) });
    expect(net.received[1]!.headers['x-secret']).toBeUndefined();
  });
});

describe('bodies survive byte for byte', () => {
  const binary = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256);
  const form = new FormData();
  form.append('title', 'héllo');
  form.append('file', new Blob([binary], { type: 'application/octet-stream' }), 'data.bin');
  const multipart = new Request('http://x/', { method: 'POST', body: form });

  it.each([
    ['JSON', 'application/json', new TextEncoder().encode(JSON.stringify({ emoji: '😀', n: [1, 2] }))],
    ['text', 'text/plain;charset=utf-8', new TextEncoder().encode('line 1\r\nline 2\n')],
    ['binary', 'application/octet-stream', binary],
  ])('%s', async (_, type, bytes) => {
    scope = await installWorker();
    net.online = false;
    await send(scope, '/api/notes/1', { headers: { 'content-type': type }, body: bytes });
    net.online = true;
    await syncNow(scope);
    expect(net.received).toHaveLength(1);
    expect(net.received[0]!.contentType).toBe(type);
    expect(Buffer.from(net.received[0]!.body).equals(Buffer.from(bytes))).toBe(true);
  });

  it('multipart/form-data, boundary and all', async () => {
    const bytes = new Uint8Array(await multipart.clone().arrayBuffer());
    const type = multipart.headers.get('content-type')!;
    scope = await installWorker();
    net.online = false;
    await send(scope, '/api/notes/1', { headers: { 'content-type': type }, body: bytes });
    net.online = true;
    await syncNow(scope);
    expect(net.received[0]!.contentType).toBe(type);
    expect(Buffer.from(net.received[0]!.body).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('replay outcomes', () => {
  const outcomeOf = async (answer: () => Response | undefined, path = '/api/notes/1') => {
    await queueOffline([path]);
    net.behave(answer);
    await syncNow(scope);
    return { status: await status(scope), list: await entries(scope) };
  };

  it.each([200, 201, 204])('%i: delivered and removed', async (code) => {
    scope = await installWorker();
    const { status: s, list } = await outcomeOf(() => new HttpResponse(null, { status: code, headers: code === 303 ? { location: '/elsewhere' } : {} }));
    expect(list).toEqual([]);
    expect(s.lastSyncAt).toEqual(expect.any(Number));
  });

  it.each([408, 429, 500, 502, 503, 504])('%i: kept, waiting to retry with backoff', async (code) => {
    scope = await installWorker();
    const before = Date.now();
    const { list } = await outcomeOf(() => new HttpResponse(null, { status: code }));
    expect(list).toMatchObject([{ state: 'pending', attempts: 1, lastError: `HTTP ${code}`, lastStatus: code }]);
    expect(list[0]!.nextAttemptAt).toBeGreaterThanOrEqual(before);
  });

  it('a network error: kept, waiting to retry', async () => {
    scope = await installWorker();
    await queueOffline(['/api/notes/1']);
    net.online = false;
    await syncNow(scope);
    expect(await entries(scope)).toMatchObject([{ state: 'pending', attempts: 1, lastError: expect.stringContaining('TypeError') }]);
  });

  it.each([
    [409, 'conflict'],
    [412, 'conflict'],
    [401, 'auth'],
    [403, 'auth'],
    [400, 'dead'],
    [404, 'dead'],
    [422, 'dead'],
  ])('%i: parked as %s, listed, not removed', async (code, state) => {
    scope = await installWorker();
    const { list, status: s } = await outcomeOf(() => new HttpResponse(null, { status: code }));
    expect(list).toMatchObject([{ state, lastStatus: code }]);
    expect(s).toMatchObject({ conflicts: state === 'conflict' ? 1 : 0, auth: state === 'auth' ? 1 : 0, dead: state === 'dead' ? 1 : 0, pending: 0 });
  });

  it("a route's retryStatuses wins over the default (409 retried unchanged)", async () => {
    scope = await installWorker();
    const { list } = await outcomeOf(() => new HttpResponse(null, { status: 409 }), '/api/lock/1');
    expect(list).toMatchObject([{ state: 'pending', lastStatus: 409 }]);
  });

  it('past maxAttempts: dead, with the reason', async () => {
    scope = await installWorker();
    const clock = movableClock();
    await queueOffline(['/api/limited/1']);
    net.behave(() => new HttpResponse(null, { status: 500 }));
    await syncNow(scope);
    clock.advance();
    await syncNow(scope);
    expect(await entries(scope)).toMatchObject([{ state: 'dead', attempts: 2, lastError: 'gave up after 2 attempts (HTTP 500)' }]);
  });

  it('past ttlSeconds: dead without being sent', async () => {
    manifest.routes[1]!.queue = { ttlSeconds: 60 } as never;
    try {
      scope = await installWorker();
      await queueOffline(['/api/notes/1']);
      const later = Date.now() + 61_000;
      vi.spyOn(Date, 'now').mockReturnValue(later);
      await syncNow(scope);
      expect(net.received).toEqual([]);
      expect(await entries(scope)).toMatchObject([{ state: 'dead', lastError: expect.stringContaining('ttlSeconds') }]);
    } finally {
      manifest.routes[1]!.queue = {};
    }
  });

  it('retries with the same Idempotency-Key until delivered', async () => {
    scope = await installWorker();
    const clock = movableClock();
    await queueOffline(['/api/notes/1']);
    net.behave((_, attempt) => (attempt < 3 ? new HttpResponse(null, { status: 500 }) : undefined));
    for (let i = 0; i < 3; i++) {
      await syncNow(scope);
      clock.advance();
    }
    expect(net.received.map((r) => r.key)).toEqual([net.received[0]!.key, net.received[0]!.key, net.received[0]!.key]);
    expect(await entries(scope)).toEqual([]);
  });

  it('honours Retry-After in seconds and as an HTTP-date, up to the longest backoff', async () => {
    scope = await installWorker();
    const now = Date.now();
    await queueOffline(['/api/notes/1', '/api/notes/2']);
    net.behave((request) =>
      new URL(request.url).pathname.endsWith('/1')
        ? new HttpResponse(null, { status: 503, headers: { 'retry-after': '120' } })
        : new HttpResponse(null, { status: 429, headers: { 'retry-after': new Date(now + 3_600_000).toUTCString() } }),
    );
    await syncNow(scope);
    const [one, two] = await entries(scope);
    expect(one!.nextAttemptAt - now).toBeGreaterThanOrEqual(120_000);
    expect(one!.nextAttemptAt - now).toBeLessThan(125_000);
    // Kept within the longest backoff (5 min): an hour's Retry-After would outlast a TTL's reach.
    expect(two!.nextAttemptAt - now).toBeGreaterThanOrEqual(300_000);
    expect(two!.nextAttemptAt - now).toBeLessThan(305_000);
    // A waiting entry is not sent before its time, even when asked.
    await syncNow(scope);
    expect(net.received).toHaveLength(2);
  });
});

describe('order and concurrency', () => {
  it('FIFO within a group; across groups, higher priority first, then older (concurrency 1: one global order)', async () => {
    scope = await installWorker({ concurrency: 1 });
    await queueOffline(['/api/later/1', '/api/notes/1', '/api/notes/1', '/api/urgent/1', '/api/notes/1', '/api/urgent/1']);
    await syncNow(scope);
    const order = net.received.map((r) => `${r.path}#${JSON.parse(text(r.body)).n}`);
    expect(net.maxInFlight).toBe(1);
    expect(order).toEqual(['/api/urgent/1#3', '/api/urgent/1#5', '/api/notes/1#1', '/api/notes/1#2', '/api/notes/1#4', '/api/later/1#0']);
  });

  it('priority never reorders one group: a high-priority form post waits behind its group', async () => {
    scope = await installWorker({ concurrency: 1 });
    await queueOffline(['/api/notes/8', '/api/notes/9']);
    net.online = false;
    const form = await scope.fetch('http://127.0.0.1:8080/api/notes/9', { method: 'POST', mode: 'navigate', body: 'n=2', referrer: 'http://127.0.0.1:8080/' });
    expect(form.response!.status).toBe(303);
    net.online = true;
    await syncNow(scope);
    expect(net.received.map((r) => `${r.path} ${text(r.body)}`)).toEqual(['/api/notes/8 {"n":0}', '/api/notes/9 {"n":1}', '/api/notes/9 n=2']);
  });

  it('a waiting head holds its group but not the others', async () => {
    scope = await installWorker();
    vi.spyOn(Math, 'random').mockReturnValue(0.99); // its retry is a second away, not due while the test looks
    await queueOffline(['/api/notes/1', '/api/notes/1', '/api/notes/2', '/api/notes/3']);
    net.behave((request) => (new URL(request.url).pathname === '/api/notes/1' ? new HttpResponse(null, { status: 500 }) : undefined));
    await syncNow(scope);
    expect(net.received.map((r) => r.path).sort()).toEqual(['/api/notes/1', '/api/notes/2', '/api/notes/3']);
    expect((await entries(scope)).map((e) => [e.url.slice(-1), e.state, e.attempts])).toEqual([
      ['1', 'pending', 1],
      ['1', 'pending', 0],
    ]);
  });

  it('a dead entry does not hold its group', async () => {
    scope = await installWorker();
    await queueOffline(['/api/notes/1', '/api/notes/1']);
    net.behave((_, attempt) => (net.received.length === 0 && attempt === 1 ? HttpResponse.json({ error: 'bad' }, { status: 400 }) : undefined));
    await syncNow(scope);
    expect(net.received).toHaveLength(2);
    expect(await entries(scope)).toMatchObject([{ state: 'dead' }]);
  });

  it('at most 6 groups in flight at once', async () => {
    scope = await installWorker();
    await queueOffline(Array.from({ length: 20 }, (_, i) => `/api/notes/${i % 10}`));
    net.behave(async () => (await delay(20), undefined));
    await syncNow(scope);
    expect(net.received).toHaveLength(20);
    // The cap holds; how close a loaded machine gets to it is timing, not contract.
    expect(net.maxInFlight).toBeLessThanOrEqual(6);
    expect(net.maxInFlight).toBeGreaterThan(1);
  });

  it('one request from two triggers at once: each write is sent once', async () => {
    scope = await installWorker();
    await queueOffline(Array.from({ length: 12 }, (_, i) => `/api/notes/${i % 4}`));
    net.behave(async () => (await delay(5), undefined));
    await Promise.all([syncNow(scope), syncNow(scope), scope.sync('offline-outbox'), syncNow(scope)]);
    const keys = net.received.map((r) => r.key);
    expect(keys).toHaveLength(12);
    expect(new Set(keys).size).toBe(12);
  });
});
