/**
 * Integration harness for the outbox: the real drop-in worker in an emulated
 * scope, a manifest of write routes, a network (MSW) that records what the
 * "server" received, and the page's requests to the worker.
 */
import { http, HttpResponse, type HttpHandler } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import type { EntrySummary, OutboxEvent, OutboxReply, OutboxStatus } from '../../common/messages.js';
import { startWorker, type ServiceWorkerScope } from './sw-scope.js';

export const ORIGIN = 'http://127.0.0.1:8080';
export const importWorker = () => import('../../sw/sw-entry.js');

export interface Received {
  method: string;
  path: string;
  key: string | null;
  contentType: string | null;
  headers: Record<string, string>;
  body: Uint8Array;
  at: number;
}

/** What the network does for a request; `undefined` = 201 with an empty JSON body. */
export type Behaviour = (request: Request, attempt: number) => Response | undefined | Promise<Response | undefined>;

export function createNetwork(manifest: unknown) {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  let online = true;
  let behaviour: Behaviour = () => undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  // Requests a test aborted (a timeout) may still be in a handler when the
  // next test starts: only the current test's requests are counted.
  let generation = 0;
  const write: HttpHandler = http.all(`${ORIGIN}/api/*`, async ({ request }) => {
    if (!online) return HttpResponse.error();
    const key = request.headers.get('idempotency-key');
    const attempt = (attempts.get(key ?? '') ?? 0) + 1;
    attempts.set(key ?? '', attempt);
    const mine = generation;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      // The behaviour gets its own copy, body unread.
      const copy = request.clone();
      const body = new Uint8Array(await request.arrayBuffer());
      const response = await behaviour(copy, attempt);
      received.push({
        method: request.method,
        path: new URL(request.url).pathname,
        key,
        contentType: request.headers.get('content-type'),
        headers: Object.fromEntries(request.headers),
        body,
        at: Date.now(),
      });
      return response ?? HttpResponse.json({}, { status: 201 });
    } finally {
      if (mine === generation) inFlight--;
    }
  });
  const server = setupServer(
    http.get(`${ORIGIN}/offline.manifest.json`, () => HttpResponse.json(manifest as never)),
    write,
  );
  return {
    server,
    received,
    get maxInFlight() {
      return maxInFlight;
    },
    set online(value: boolean) {
      online = value;
    },
    behave(b: Behaviour) {
      behaviour = b;
    },
    reset() {
      received.length = 0;
      attempts.clear();
      online = true;
      behaviour = () => undefined;
      maxInFlight = 0;
      inFlight = 0;
      generation++;
    },
  };
}

/** The drop-in worker, or (with options) `installOutbox` in an app's own worker. */
export async function installWorker(options?: { concurrency?: number }): Promise<ServiceWorkerScope> {
  const scope = await startWorker(
    { scriptUrl: `${ORIGIN}/sw.js` },
    options ? async () => (await import('../../sw/index.js')).installOutbox('/offline.manifest.json', options) : importWorker,
  );
  await scope.install();
  await scope.activate();
  return scope;
}

export async function ask<T>(scope: ServiceWorkerScope, op: string, args: Record<string, unknown> = {}): Promise<T> {
  const reply = (await scope.ask({ kind: 'outbox-request', v: 1, op, args })) as OutboxReply;
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.value as T;
}

export const status = (scope: ServiceWorkerScope) => ask<OutboxStatus>(scope, 'status');
export const entries = (scope: ServiceWorkerScope) => ask<EntrySummary[]>(scope, 'entries');
export const syncNow = (scope: ServiceWorkerScope) => ask<OutboxStatus>(scope, 'sync-now');

/** A write through the worker, as the page sees it. */
export async function send(scope: ServiceWorkerScope, path: string, init: RequestInit & { mode?: RequestMode; referrer?: string } = {}) {
  const outcome = await scope.fetch(`${ORIGIN}${path}`, { method: 'POST', ...init });
  const response = outcome.response!;
  return { handled: outcome.handled, status: response?.status, headers: Object.fromEntries(response?.headers ?? []), text: await response?.text(), done: outcome.done };
}

/**
 * A test file's network and lifecycle: MSW listening for the file, and after
 * each test the worker (`current()`) torn down, the network reset, mocks restored.
 */
export function outboxSuite(manifest: unknown, current: () => ServiceWorkerScope | undefined) {
  const net = createNetwork(manifest);
  beforeAll(() => net.server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => net.server.close());
  afterEach(async () => {
    await current()?.teardown();
    net.reset();
    vi.restoreAllMocks();
  });
  return net;
}

/** Waits (polling every 10 ms, up to `ms`) until `condition` holds. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The events pages hear into `events`: those on the origin's channel, and
 * those the worker posts only to the pages of its scope (conflicts, which
 * carry the app's data). Call it once the worker is there.
 */
export function listenAsPage(scope: ServiceWorkerScope, events: OutboxEvent[] = []): OutboxEvent[] {
  const channel = new BroadcastChannel('offline-outbox');
  channel.onmessage = ({ data }) => events.push(data as OutboxEvent);
  const page = scope.clients.addWindow({ url: '/' });
  // What the worker posts to the page lands in `events`.
  Object.defineProperty(page, 'messages', { value: events });
  return events;
}

/**
 * A clock the test moves: `Date.now()` reads real time plus what `advance`
 * added, so a write backing off (at least a second) is due after
 * `advance(backoff)` without waiting for it.
 */
export function movableClock() {
  const real = Date.now.bind(Date);
  let offset = 0;
  vi.spyOn(Date, 'now').mockImplementation(() => real() + offset);
  return { advance: (ms = 10 * 60 * 1000) => void (offset += ms) };
}
