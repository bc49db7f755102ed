import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectOutbox, isOutboxClientError, OutboxClientError, type OutboxClient } from '../../client/connect-outbox.js';
import { CHANNEL_NAME, type OutboxEvent, type OutboxReply, type OutboxRequest, type OutboxStatus } from '../../common/messages.js';

const ORIGIN = 'https://app.example';

const STATUS: OutboxStatus = { pending: 2, inFlight: 0, conflicts: 0, auth: 0, dead: 1, online: true, lastSyncAt: null, oldestPendingAt: 1_700_000_000_000, notCached: [] };

interface FakeWorker {
  /** What the worker received, structured-cloned as it would be. */
  received: unknown[];
  /** How many ports came with each message. */
  ports: number[];
  /** Resolves (to the port's 'close' event) when the page closes the reply channel of the last request. */
  closed: Promise<unknown>;
  /** The reply port the last request transferred. */
  port?: MessagePort;
  postMessage(data: unknown, transfer?: Transferable[]): void;
}

/** Answers on the transferred port, as the worker does; `answer` returning undefined models a worker that never replies. */
function fakeWorker(answer: (request: OutboxRequest) => OutboxReply | undefined = () => ({ ok: true, value: STATUS })): FakeWorker {
  let onClosed = (_: unknown) => {};
  const worker: FakeWorker = {
    received: [],
    ports: [],
    closed: new Promise((resolve) => (onClosed = resolve)),
    postMessage(data, transfer = []) {
      worker.received.push(structuredClone(data));
      worker.ports.push(transfer.length);
      const port = transfer[0] as MessagePort & { once(event: 'close', listener: (event: unknown) => void): void };
      worker.port = port;
      // Node's MessagePort says 'close' when the other end closes.
      port.once('close', onClosed);
      const reply = answer(data as OutboxRequest);
      if (reply) port.postMessage(reply);
    },
  };
  return worker;
}

function fakeNavigator(options: { controller?: FakeWorker | null; ready?: Promise<{ active: FakeWorker | null }>; serviceWorker?: false } = {}): void {
  vi.stubGlobal('navigator', options.serviceWorker === false ? {} : { serviceWorker: { controller: options.controller ?? null, ready: options.ready ?? new Promise(() => {}) } });
}

const clients: OutboxClient[] = [];
const channels: BroadcastChannel[] = [];
function connect(timeoutMs?: number): OutboxClient {
  const client = connectOutbox(timeoutMs === undefined ? undefined : { timeoutMs });
  clients.push(client);
  return client;
}

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const c of channels.splice(0)) c.close();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('connectOutbox requests', () => {
  it('sends each op as a versioned outbox-request with one port, and resolves with the reply', async () => {
    const worker = fakeWorker((request) => ({ ok: true, value: request.op === 'entries' ? [] : ['retry', 'discard', 'resolve'].includes(request.op) ? true : STATUS }));
    fakeNavigator({ controller: worker });
    const client = connect();

    await expect(client.status()).resolves.toEqual(STATUS);
    await expect(client.entries()).resolves.toEqual([]);
    await expect(client.syncNow()).resolves.toEqual(STATUS);
    await expect(client.retry('e1')).resolves.toBe(true);
    await expect(client.discard('e2')).resolves.toBe(true);
    await expect(client.resolve('e3', { action: 'replace', body: { title: 'merged' } })).resolves.toBe(true);

    expect(worker.received).toEqual([
      { kind: 'outbox-request', v: 1, op: 'status', args: {} },
      { kind: 'outbox-request', v: 1, op: 'entries', args: {} },
      { kind: 'outbox-request', v: 1, op: 'sync-now', args: {} },
      { kind: 'outbox-request', v: 1, op: 'retry', args: { id: 'e1' } },
      { kind: 'outbox-request', v: 1, op: 'discard', args: { id: 'e2' } },
      { kind: 'outbox-request', v: 1, op: 'resolve', args: { id: 'e3', action: 'replace', body: { title: 'merged' } } },
    ]);
    expect(worker.ports).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('closes the reply channel once answered', async () => {
    const worker = fakeWorker();
    fakeNavigator({ controller: worker });
    const close = vi.spyOn(MessagePort.prototype, 'close');
    await connect().status();
    // The page closed its own end (not the one it transferred) as soon as the reply came...
    expect(close).toHaveBeenCalledTimes(1);
    expect(close.mock.contexts[0]).toBeInstanceOf(MessagePort);
    expect(close.mock.contexts[0]).not.toBe(worker.port);
    // ...and the worker's end hears it.
    expect(await worker.closed).toMatchObject({ type: 'close' });
  });

  it("rejects with the worker's code and message when it answers ok: false", async () => {
    fakeNavigator({ controller: fakeWorker(() => ({ ok: false, error: { code: 'no-such-entry', message: 'no entry e9; it may have been replayed' } })) });
    const error: unknown = await connect()
      .retry('e9')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboxClientError);
    expect(error).toMatchObject({ name: 'OutboxClientError', code: 'no-such-entry', message: 'no entry e9; it may have been replayed' });
  });

  it('rejects with worker-timeout when the worker never answers, and closes the channel', async () => {
    const worker = fakeWorker(() => undefined);
    fakeNavigator({ controller: worker });
    const error: unknown = await connect(50)
      .syncNow()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'worker-timeout' });
    expect((error as Error).message).toContain('sync-now: the service worker did not answer within 50 ms');
    await worker.closed;
  });

  it('asks the active worker of `ready` when no worker controls the page yet', async () => {
    const worker = fakeWorker();
    fakeNavigator({ controller: null, ready: Promise.resolve({ active: worker }) });
    await expect(connect().status()).resolves.toEqual(STATUS);
    expect(worker.received).toEqual([{ kind: 'outbox-request', v: 1, op: 'status', args: {} }]);
  });

  it('times out, saying none is active, when no worker ever becomes ready; a late one is not asked', async () => {
    const worker = fakeWorker();
    let ready = (_: { active: FakeWorker }) => {};
    fakeNavigator({ ready: new Promise((resolve) => (ready = resolve)) });
    const error: unknown = await connect(30)
      .entries()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'worker-timeout' });
    expect((error as Error).message).toMatch(/^offline-outbox: entries: the service worker did not answer within 30 ms: none is active for this page\./);
    ready({ active: worker });
    // A later request waits for the same `ready` after the timed-out one did, so
    // once it is answered the late one has acted if it ever would: the worker
    // must have been asked that later request only.
    await expect(connect().status()).resolves.toEqual(STATUS);
    expect(worker.received).toEqual([{ kind: 'outbox-request', v: 1, op: 'status', args: {} }]);
  });

  it('rejects with no-service-worker, saying why, where there are none', async () => {
    fakeNavigator({ serviceWorker: false });
    vi.stubGlobal('window', { isSecureContext: false });
    vi.stubGlobal('location', new URL(`${ORIGIN.replace('https', 'http')}/page`));
    const insecure: unknown = await connect()
      .status()
      .catch((e: unknown) => e);
    expect(insecure).toMatchObject({ code: 'no-service-worker' });
    expect((insecure as Error).message).toContain('http://app.example is not a secure origin; serve the app over HTTPS');

    vi.stubGlobal('window', { isSecureContext: true });
    const unsupported: unknown = await connect()
      .status()
      .catch((e: unknown) => e);
    expect((unsupported as Error).message).toContain('this browser has no service workers');
  });
});

describe('isOutboxClientError', () => {
  it('recognizes the error by name, also from another realm', () => {
    expect(isOutboxClientError(new OutboxClientError('worker-timeout', 'm'))).toBe(true);
    expect(isOutboxClientError({ name: 'OutboxClientError', code: 'worker-timeout', message: 'm' })).toBe(true);
    expect(isOutboxClientError(new Error('m'))).toBe(false);
    expect(isOutboxClientError(null)).toBe(false);
  });
});

describe('connectOutbox events', () => {
  // A page's navigator: its serviceWorker container is an EventTarget (the worker's postMessage to pages arrives there).
  beforeEach(() => {
    vi.stubGlobal('navigator', { serviceWorker: Object.assign(new EventTarget(), { controller: null, ready: new Promise(() => {}), startMessages() {} }) });
  });

  /** The worker's side: a real channel of the same name. */
  function workerChannel(): BroadcastChannel {
    const channel = new BroadcastChannel(CHANNEL_NAME);
    channels.push(channel);
    return channel;
  }
  const queued: OutboxEvent<'queued'> = {
    type: 'queued',
    v: 1,
    entry: {
      id: 'e1',
      key: 'k1',
      group: 'todos',
      priority: 0,
      method: 'POST',
      url: `${ORIGIN}/api/todos`,
      state: 'pending',
      createdAt: 1,
      attempts: 0,
      nextAttemptAt: 1,
      bodyBytes: 12,
    },
  };
  const syncEnd: OutboxEvent<'sync-end'> = { type: 'sync-end', v: 1, done: 1, remaining: 0 };

  /** Resolves at the first event of the type; the channel keeps order, so earlier events have arrived. */
  const next = (client: OutboxClient, type: 'sync-end') =>
    new Promise<void>((resolve) => {
      const off = client.on(type, () => (off(), resolve()));
    });

  it('delivers events to typed and catch-all listeners, filtered by type and version', async () => {
    const client = connect();
    const typed: unknown[] = [];
    const all: unknown[] = [];
    client.on('queued', (event) => typed.push(event.entry.id));
    client.on('*', (event) => all.push(event.type));
    const done = next(client, 'sync-end');

    const worker = workerChannel();
    worker.postMessage({ ...queued, v: 2 });
    worker.postMessage({ type: 'queued' });
    worker.postMessage('queued');
    worker.postMessage(queued);
    worker.postMessage({ type: 'replayed', v: 1, id: 'e1', status: 201 });
    worker.postMessage(syncEnd);
    await done;

    expect(typed).toEqual(['e1']);
    expect(all).toEqual(['queued', 'replayed', 'sync-end']);
  });

  it('stops calling a listener once unsubscribed, and close() stops all', async () => {
    const client = connect();
    const calls: string[] = [];
    const off = client.on('queued', () => calls.push('a'));
    client.on('queued', () => calls.push('b'));
    const worker = workerChannel();

    let done = next(client, 'sync-end');
    worker.postMessage(queued);
    worker.postMessage(syncEnd);
    await done;
    off();
    done = next(client, 'sync-end');
    worker.postMessage(queued);
    worker.postMessage(syncEnd);
    await done;
    expect(calls).toEqual(['a', 'b', 'b']);

    client.close();
    // A channel opened after the client's hears each message after the
    // client's channel would have (the HTML spec delivers to a name's
    // channels in creation order): once it has heard sync-end, a still open
    // client would have heard `queued`.
    const probe = workerChannel();
    const probed = new Promise<void>((resolve) => probe.addEventListener('message', ({ data }) => data?.type === 'sync-end' && resolve()));
    worker.postMessage(queued);
    worker.postMessage(syncEnd);
    await probed;
    expect(calls).toEqual(['a', 'b', 'b']);
  });

  it('listens to nothing, without failing, where BroadcastChannel is missing', () => {
    vi.stubGlobal('BroadcastChannel', undefined);
    const off = connect().on('*', () => {});
    expect(off).toBeTypeOf('function');
    off();
  });
});

describe('register.js', () => {
  interface Page {
    document: EventTarget & { currentScript: null; visibilityState: DocumentVisibilityState };
    window: EventTarget & { isSecureContext: boolean; offlineOutbox?: Window['offlineOutbox'] };
    debug: unknown[][];
  }

  /** Loads register.js into a fresh fake page; `worker` undefined models a page without service workers. */
  async function loadPage(worker?: FakeWorker): Promise<Page> {
    const page: Page = {
      document: Object.assign(new EventTarget(), { currentScript: null, visibilityState: 'hidden' as DocumentVisibilityState }),
      window: Object.assign(new EventTarget(), { isSecureContext: true }),
      debug: [],
    };
    vi.stubGlobal('document', page.document);
    vi.stubGlobal('window', page.window);
    vi.stubGlobal('location', new URL(`${ORIGIN}/page/index.html`));
    // register-outbox's install-failure channel would outlive the test.
    vi.stubGlobal('BroadcastChannel', undefined);
    vi.stubGlobal('fetch', async () => new Response('{"version":1}'));
    vi.stubGlobal(
      'navigator',
      worker
        ? {
            serviceWorker: {
              controller: worker,
              ready: Promise.resolve({ active: worker }),
              register: async () => ({ scope: `${ORIGIN}/` }),
              getRegistration: async () => undefined,
            },
          }
        : {},
    );
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.spyOn(console, 'debug').mockImplementation((...args) => void page.debug.push(args));
    vi.resetModules();
    await import('../../client/register-entry.js');
    await page.window.offlineOutbox?.registration;
    return page;
  }
  const show = (page: Page, state: DocumentVisibilityState) => {
    page.document.visibilityState = state;
    page.document.dispatchEvent(new Event('visibilitychange'));
  };
  const tick = () => new Promise((resolve) => setTimeout(resolve, 10));
  const syncNow = { kind: 'outbox-request', v: 1, op: 'sync-now', args: {} };

  it('exposes the registration and the client methods on window.offlineOutbox', async () => {
    const page = await loadPage(fakeWorker());
    expect(Object.keys(page.window.offlineOutbox ?? {}).sort()).toEqual(['clear', 'close', 'discard', 'entries', 'on', 'registration', 'resolve', 'retry', 'status', 'syncNow']);
    await expect(page.window.offlineOutbox?.registration).resolves.toEqual({ scope: `${ORIGIN}/` });
    await expect(page.window.offlineOutbox?.status()).resolves.toEqual(STATUS);
  });

  it('asks for a replay when the page goes online or becomes visible, once for both at a time', async () => {
    const worker = fakeWorker();
    const page = await loadPage(worker);
    page.window.dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(worker.received).toEqual([syncNow]));

    show(page, 'hidden');
    await tick();
    expect(worker.received).toHaveLength(1);

    show(page, 'visible');
    page.window.dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(worker.received).toHaveLength(2));
    await tick();
    expect(worker.received).toEqual([syncNow, syncNow]);
  });

  it('swallows failed replays with one console.debug', async () => {
    const worker = fakeWorker(() => ({ ok: false, error: { code: 'busy', message: 'busy' } }));
    const page = await loadPage(worker);
    page.window.dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(page.debug).toHaveLength(1));
    show(page, 'visible');
    await vi.waitFor(() => expect(worker.received).toHaveLength(2));
    await tick();
    expect(page.debug).toHaveLength(1);
    expect(page.debug[0]?.[1]).toMatchObject({ code: 'busy' });
  });

  it('does nothing where service workers are unavailable', async () => {
    const page = await loadPage();
    await expect(page.window.offlineOutbox?.registration).resolves.toBeUndefined();
    page.window.dispatchEvent(new Event('online'));
    show(page, 'visible');
    await tick();
    expect(page.debug).toEqual([]);
  });
});
