/**
 * What a browser does to a worker that the old harness hid: two instances of
 * one registration at once (an update racing a write), and an idle worker
 * stopped while work it started outside `waitUntil` was still running.
 */
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { ask, entries, importWorker, installWorker, outboxSuite, send, syncNow, until } from '../support/outbox-harness.js';
import { restartWorker, startNextWorker, type ServiceWorkerScope } from '../support/sw-scope.js';

const manifest = {
  version: 1,
  routes: [
    { match: '/api/notes/:id', methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: '/api/notes/:id', methods: ['POST', 'PUT', 'PATCH'], queue: {}, resource: 'notes' },
  ],
  resources: { notes: { collection: '/api/notes', item: '/api/notes/:id' } },
  changes: { stream: '/api/changes/stream', since: '/api/changes?since={cursor}' },
};

let scope: ServiceWorkerScope;
let next: ServiceWorkerScope | undefined;
const net = outboxSuite(manifest, () => {
  // Both instances stop; globals come back once the last has.
  void next?.teardown();
  next = undefined;
  return scope;
});
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('a worker update racing a live write (defect 9)', () => {
  it("the new worker's write to the item waits for the old worker's send to settle, so the two never swap places", async () => {
    scope = await installWorker();
    let release!: (r: Response) => void;
    const firstAnswer = new Promise<Response>((resolve) => (release = resolve));
    const seen: string[] = [];
    net.behave(async (request) => {
      const body = await request.text();
      seen.push(body);
      return seen.length === 1 ? firstAnswer : undefined;
    });
    const one = scope.fetch('/api/notes/1', { method: 'PUT', body: 'one' });
    await until(() => seen.length === 1, 5000, "the old worker's write is at the server");

    next = await startNextWorker(scope, importWorker);
    await next.install();
    await next.activate();
    const two = next.fetch('/api/notes/1', { method: 'PUT', body: 'two' });
    // Time for the new worker to send, where it could (an allowance, not what is asserted).
    await new Promise((r) => setTimeout(r, 300));
    // The old send fails: that write goes to the outbox, in its place before the new one.
    release(new HttpResponse(null, { status: 503 }));
    expect((await one).response!.status).toBe(202);
    expect((await two).response!.status).toBe(202);
    await syncNow(next);
    await until(async () => (await entries(next!)).length === 0, 5000, 'both delivered');
    expect(net.received.filter((r) => r.method === 'PUT').map((r) => text(r.body))).toEqual(['one', 'one', 'two']);
  });
});

describe('work the worker starts is held by an event (a browser stops an idle worker)', () => {
  it('retry(id): the replay it starts finishes before the worker may be stopped', async () => {
    scope = await installWorker();
    net.online = false;
    const id = (await send(scope, '/api/notes/1', { method: 'PUT', body: 'x' })).headers['x-outbox-queued']!;
    net.online = true;
    net.behave(() => new HttpResponse(null, { status: 400 }));
    await syncNow(scope);
    expect((await entries(scope))[0]).toMatchObject({ state: 'dead' });
    net.behave(async () => {
      await new Promise((r) => setTimeout(r, 100));
      return undefined;
    });
    expect(await ask(scope, 'retry', { id })).toBe(true);
    await scope.stopWhenIdle();
    scope = await restartWorker(scope, importWorker);
    expect(await entries(scope)).toEqual([]);
  });

  it('notices: applied before the worker may be stopped (their refetch reaches the server)', async () => {
    scope = await installWorker();
    net.behave(() => HttpResponse.json({ id: '1', v: 1 }, { headers: { etag: '"v1"' } }));
    await (await scope.fetch('/api/notes/1')).done;
    const before = net.received.length;
    net.behave(async () => {
      await new Promise((r) => setTimeout(r, 100));
      return HttpResponse.json({ id: '1', v: 2 }, { headers: { etag: '"v2"' } });
    });
    expect(await ask(scope, 'notices', { notices: [{ resource: 'notes', id: '1', type: 'updated', version: 2 }] })).toEqual({ accepted: 1, ignored: 0 });
    await scope.stopWhenIdle();
    expect(net.received.length).toBe(before + 1);
    const cached = await (await scope.caches.open((await scope.caches.keys()).find((n) => n.includes('/api/notes/:id'))!)).match('http://127.0.0.1:8080/api/notes/1');
    expect(await cached!.json()).toEqual({ id: '1', v: 2 });
  });
});

describe('clear() while the feed and revalidations are in flight (defect 20)', () => {
  it('neither the old cursor nor a refetched entry survives the log-out', async () => {
    scope = await installWorker();
    const since: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    net.behave(async (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/api/changes') {
        since.push(url.searchParams.get('since')!);
        await gate;
        return HttpResponse.json({ notices: [{ resource: 'notes', id: '1', type: 'updated', version: 3 }], cursor: 'c-9' });
      }
      if (since.length) await gate;
      return HttpResponse.json({ id: '1' }, { headers: { etag: '"v1"' } });
    });
    await (await scope.fetch('/api/notes/1')).done;
    await ask(scope, 'notices', { notices: [{ resource: 'notes', id: '1', type: 'updated', version: 2, cursor: 'c-5' }] });
    await until(() => net.received.length >= 2, 5000, 'the first notice applied');
    const catchUp = ask(scope, 'catch-up').catch(() => {});
    await until(() => since.length === 1, 5000, 'the catch-up is at the server');
    expect(await ask(scope, 'clear')).toBe(true);
    release();
    await catchUp;
    await ask(scope, 'catch-up');
    // No cursor after a log-out: nothing to catch up on, so no second request.
    expect(since).toEqual(['c-5']);
    expect((await scope.caches.keys()).filter((n) => n.startsWith('offline-outbox:'))).toEqual([]);
  });
});
