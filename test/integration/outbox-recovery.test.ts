import { HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { ask, movableClock, outboxSuite, entries, importWorker, installWorker, send, status, syncNow, until } from '../support/outbox-harness.js';
import { killWorker, restartWorker, type ServiceWorkerScope } from '../support/sw-scope.js';

const manifest = { version: 1, routes: [{ match: '/api/notes/:id', methods: ['POST', 'PUT'], queue: {} }] };
let scope: ServiceWorkerScope;
const net = outboxSuite(manifest, () => scope);

async function queueOffline(...paths: string[]): Promise<string[]> {
  net.online = false;
  const ids = [];
  for (const [n, path] of paths.entries()) ids.push((await send(scope, path, { body: JSON.stringify({ n }) })).headers['x-outbox-queued']!);
  net.online = true;
  return ids;
}

describe('crash safety', () => {
  it('a worker killed mid-replay leaves the entry in flight; when the lease lapses it is sent again with the same key', async () => {
    scope = await installWorker();
    await queueOffline('/api/notes/1');
    const reached: (string | null)[] = [];
    // The server takes the replay in and holds its answer.
    net.behave((request) => {
      reached.push(request.headers.get('idempotency-key'));
      return new Promise(() => {});
    });
    void syncNow(scope).catch(() => {});
    await until(() => reached.length === 1, 5000, 'the replay to reach the server');
    expect(await status(scope)).toMatchObject({ pending: 0, inFlight: 1 });
    const firstKey = (await entries(scope))[0]!.key;
    expect(reached).toEqual([`"${firstKey}"`]);

    // Killed, as a browser kills a worker: its fetch is aborted, its pass
    // dropped mid-way; a new instance of the worker, same storage.
    scope = await killWorker(scope, importWorker);
    net.behave(() => undefined);
    await syncNow(scope);
    expect(net.received).toEqual([]); // the lease has not lapsed yet
    expect(await status(scope)).toMatchObject({ inFlight: 1 });

    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 16_000);
    await syncNow(scope);
    expect(net.received.map((r) => r.key)).toEqual([`"${firstKey}"`]);
    expect(await status(scope)).toMatchObject({ pending: 0, inFlight: 0 });
  });

  it('the writes survive a restart and go out from the new instance, in order', async () => {
    scope = await installWorker();
    await queueOffline('/api/notes/1', '/api/notes/1', '/api/notes/1');
    scope = await restartWorker(scope, importWorker);
    await syncNow(scope);
    expect(net.received.map((r) => JSON.parse(new TextDecoder().decode(r.body)).n)).toEqual([0, 1, 2]);
  });
});

describe('Background Sync', () => {
  it('registers its tag when a write is queued; a sync with work left fails, so the browser retries it', async () => {
    const clock = movableClock(); // each sync below comes after the backoff of the attempt before it
    scope = await installWorker();
    await queueOffline('/api/notes/1');
    expect(await scope.registration.sync.getTags()).toEqual(['offline-outbox']);
    net.behave(() => new HttpResponse(null, { status: 503 }));
    await expect(scope.sync('offline-outbox', false)).rejects.toThrow(/1 writes still waiting/);
    expect(await scope.registration.sync.getTags()).toEqual(['offline-outbox']);
    // The last chance, with the server answering (503): a fresh registration.
    clock.advance();
    await expect(scope.sync('offline-outbox', true)).resolves.toBeUndefined();
    expect(await scope.registration.sync.getTags()).toEqual(['offline-outbox']);
    net.behave(() => undefined);
    clock.advance();
    await scope.sync('offline-outbox');
    expect(net.received.at(-1)).toMatchObject({ path: '/api/notes/1' });
    expect((await status(scope)).pending).toBe(0);
  });

  it('does not spin while the server is unreachable: the last chance then registers nothing, and waiting writes keep their backoff', async () => {
    scope = await installWorker();
    await queueOffline('/api/notes/1');
    net.online = false;
    await expect(scope.sync('offline-outbox', false)).rejects.toThrow(/still waiting/);
    const [entry] = await entries(scope);
    expect(entry).toMatchObject({ attempts: 1 });
    await expect(scope.sync('offline-outbox', true)).resolves.toBeUndefined();
    expect(await scope.registration.sync.getTags()).toEqual([]);
    // The second sync, right after, did not send it again.
    expect((await entries(scope))[0]).toMatchObject({ attempts: 1 });
    // The page's own "sync now" still does.
    net.online = true;
    await syncNow(scope);
    expect(await status(scope)).toMatchObject({ pending: 0 });
  });
});

describe('the page API', () => {
  it('retry sends a dead entry again; discard removes one; entries lists metadata', async () => {
    scope = await installWorker();
    const [a, b] = await queueOffline('/api/notes/1', '/api/notes/2');
    net.behave(() => HttpResponse.json({ error: 'nope' }, { status: 400 }));
    await syncNow(scope);
    expect(await status(scope)).toMatchObject({ dead: 2, pending: 0 });
    net.behave(() => undefined);
    expect(await ask(scope, 'retry', { id: a })).toBe(true);
    await until(() => net.received.length === 3);
    await syncNow(scope);
    expect(await ask(scope, 'discard', { id: b })).toBe(true);
    expect(await status(scope)).toMatchObject({ dead: 0, pending: 0 });
    expect(await entries(scope)).toEqual([]);
    expect(await ask(scope, 'discard', { id: b })).toBe(false);
    await expect(ask(scope, 'frobnicate')).rejects.toMatchObject({ code: 'unknown-operation' });
  });

  it('tells pages what happens, in order, on the BroadcastChannel', async () => {
    scope = await installWorker();
    const heard: string[] = [];
    const channel = new BroadcastChannel('offline-outbox');
    channel.onmessage = ({ data }) => heard.push(data.type === 'sync-progress' ? `progress ${data.done}/${data.total}` : data.type);
    await queueOffline('/api/notes/1', '/api/notes/1');
    await syncNow(scope);
    await until(() => heard.includes('sync-end') && heard.lastIndexOf('status') > heard.indexOf('sync-end'));
    // Offline passes in between only add 'retrying' and 'status'.
    expect(heard.filter((t) => t !== 'retrying' && t !== 'status')).toEqual(['queued', 'queued', 'sync-start', 'replayed', 'progress 1/2', 'replayed', 'progress 2/2', 'sync-end']);
  });

  it('status counts come from the indexes, and report the oldest entry', async () => {
    scope = await installWorker();
    const before = Date.now();
    await queueOffline('/api/notes/1', '/api/notes/2', '/api/notes/3');
    expect(await status(scope)).toEqual({
      pending: 3,
      inFlight: 0,
      conflicts: 0,
      auth: 0,
      dead: 0,
      online: true,
      lastSyncAt: null,
      oldestPendingAt: expect.any(Number),
      notCached: [],
    });
    expect((await status(scope)).oldestPendingAt).toBeGreaterThanOrEqual(before);
  });
});

describe('auth', () => {
  it('a write parked for 401 goes again once the app’s own write gets through with its credentials', async () => {
    scope = await installWorker();
    await queueOffline('/api/notes/1');
    net.behave(() => new HttpResponse(null, { status: 401 }));
    await syncNow(scope);
    expect(await status(scope)).toMatchObject({ auth: 1, pending: 0 });
    net.behave(() => undefined);
    // The user logged in again; the app's next write succeeds live.
    expect((await send(scope, '/api/notes/2', { body: 'after login' })).status).toBe(201);
    await until(() => net.received.filter((r) => r.path === '/api/notes/1').length === 2);
    await syncNow(scope);
    expect(await status(scope)).toMatchObject({ auth: 0, pending: 0 });
  });
});
