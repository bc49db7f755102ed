/**
 * The worker's message handler on generated messages (issue 9, "Fuzzing"):
 * random values, requests of another protocol version, unknown operations,
 * and the page's operations with malformed arguments. Whatever comes in:
 *
 * - the worker never throws out of the event, and its waitUntil work never
 *   rejects (a failure is a structured error reply, not a rejection);
 * - a request (kind "outbox-request", v 1) with a port gets exactly one reply,
 *   `{ok: true, value}` or `{ok: false, error: {code, message}}` with string
 *   code and message; anything else gets none;
 * - the outbox is as it was: the same entries (the writes queued before the
 *   run, parked as dead, conflict and auth so that nothing moves them on its
 *   own) and the same status.
 *
 * One worker serves every run (installed in beforeAll): an event costs far
 * more than a pure function call. No generated message is a valid
 * destructive request (clear, sync-now, catch-up, or a retry, discard or
 * resolve of a real entry's id).
 */
import fc from 'fast-check';
import { http, HttpResponse } from 'msw';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EntrySummary, OutboxStatus } from '../../common/messages.js';
import { parseNotice } from '../../common/notice.js';
import { createNetwork, installWorker, ORIGIN, send, until } from '../support/outbox-harness.js';
import { EmulatedMessageEvent, type EmulatedWindowClient, type ServiceWorkerScope } from '../support/sw-scope.js';

const RUNS = { numRuns: 1000 };

const manifest = {
  version: 1,
  routes: [
    { match: '/api/notes/:id', methods: ['POST', 'PUT', 'PATCH', 'DELETE'], queue: {} },
    { match: '/api/todos', methods: ['POST'], queue: {}, resource: 'todos' },
    { match: '/api/todos/:id', methods: ['PUT', 'PATCH', 'DELETE'], queue: {}, resource: 'todos' },
  ],
  resources: { todos: { collection: '/api/todos', item: '/api/todos/:id' } },
};
const known = (name: string) => name === 'todos';

/** The writes queued before the runs, and the answer that parks each on its replay. */
const WRITES: [method: string, path: string, body: unknown, status: number][] = [
  ['POST', '/api/notes/dead-1', { n: 1 }, 400],
  ['PUT', '/api/notes/conflict-1', { n: 2 }, 409],
  ['POST', '/api/notes/auth-1', { n: 3 }, 401],
  ['PATCH', '/api/todos/t1', { title: 'local' }, 409],
  ['DELETE', '/api/todos/t2', undefined, 400],
  ['POST', '/api/todos', { id: 't3', title: 'new' }, 401],
];
const PARKED = new Set(['dead', 'conflict', 'auth']);

/** The protocol's operations; only the ones that change nothing by themselves are generated (with malformed arguments). */
const OPERATIONS = ['status', 'entries', 'sync-now', 'retry', 'discard', 'resolve', 'clear', 'notices', 'catch-up'];
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

const net = createNetwork(manifest);
let scope: ServiceWorkerScope;
/** A page inside the scope: requests come from one, as register.js sends them. */
let page: EmulatedWindowClient;
let before: { entries: EntrySummary[]; status: OutboxStatus };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRequest = (data: unknown) => isRecord(data) && data.kind === 'outbox-request' && data.v === 1;

/** Records each waitUntil promise, so a run can see what its event left behind. */
class RecordedMessageEvent extends EmulatedMessageEvent {
  readonly held: Promise<unknown>[] = [];
  override waitUntil(promise: Promise<unknown>): void {
    super.waitUntil(promise);
    this.held.push(Promise.resolve(promise));
  }
}

/** Errors thrown out of a listener (Node reports them as uncaught) and rejections nobody handled. */
const escaped: unknown[] = [];
const onEscape = (error: unknown) => void escaped.push(error);

/**
 * Dispatches a message event as a page's postMessage would (with a port when
 * `withPort`), waits for its lifetime, and returns the replies on the port
 * and the waitUntil rejection reasons.
 */
async function deliver(data: unknown, withPort: boolean): Promise<{ replies: unknown[]; reasons: unknown[] }> {
  const { port1, port2 } = new MessageChannel();
  const replies: unknown[] = [];
  const arrived = new Promise<void>((resolve) => {
    port1.onmessage = (event) => {
      replies.push(event.data);
      resolve();
    };
  });
  const event = new RecordedMessageEvent('message', { data: structuredClone(data), ports: withPort ? [port2] : [], source: page, origin: ORIGIN });
  // The scope's dispatchEvent runs the worker's listeners with the event's waitUntil armed (one instance: it is the caller).
  scope.self.dispatchEvent(event);
  const reasons: unknown[] = [];
  // waitUntil may be called again while earlier promises settle.
  for (let seen = 0; seen < event.held.length; ) {
    const batch = event.held.slice(seen);
    seen = event.held.length;
    for (const result of await Promise.allSettled(batch)) if (result.status === 'rejected') reasons.push(result.reason);
  }
  // The reply was posted before the lifetime ended; the port delivers it a task later.
  if (withPort && isRequest(data)) await Promise.race([arrived, new Promise((r) => setTimeout(r, 1000))]);
  else await new Promise((r) => setImmediate(r));
  port1.close();
  return { replies, reasons };
}

/** A well-formed request, asked from the page; the reply's value. */
async function request<T>(op: string): Promise<T> {
  const { replies, reasons } = await deliver({ kind: 'outbox-request', v: 1, op, args: {} }, true);
  expect(reasons).toEqual([]);
  const [reply] = replies as [{ ok: boolean; value: T; error?: unknown }];
  expect(reply, `${op}: ${JSON.stringify(reply)}`).toMatchObject({ ok: true });
  return reply.value;
}

/** The reply shape of the protocol (common/messages.ts, OutboxReply). */
function checkReply(reply: unknown): asserts reply is { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } } {
  expect(isRecord(reply), `reply ${fc.stringify(reply)}`).toBe(true);
  const r = reply as Record<string, unknown>;
  if (r.ok === true) {
    expect(Object.keys(r).sort()).toEqual(['ok', 'value']);
    return;
  }
  expect(r.ok).toBe(false);
  expect(Object.keys(r).sort()).toEqual(['error', 'ok']);
  expect(isRecord(r.error), `error ${fc.stringify(r.error)}`).toBe(true);
  const error = r.error as Record<string, unknown>;
  expect(typeof error.code, `error code ${fc.stringify(error.code)} (message ${fc.stringify(error.message)})`).toBe('string');
  expect(error.code).toMatch(/^[a-z]+(-[a-z]+)*$/);
  expect(typeof error.message).toBe('string');
  expect(error.message).not.toBe('');
}

beforeAll(async () => {
  net.server.listen({ onUnhandledRequest: 'error' });
  scope = await installWorker();
  page = scope.clients.addWindow({ url: '/' });
  process.on('uncaughtExceptionMonitor', onEscape);
  process.on('unhandledRejection', onEscape);

  // Queue the writes offline, then let one replay park each: dead (400),
  // conflict (409) and auth (401) stay as they are until someone acts.
  net.online = false;
  for (const [method, path, body] of WRITES) {
    const sent = await send(scope, path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(sent.status, `${method} ${path}`).toBe(202);
  }
  net.online = true;
  net.behave((req) =>
    req.method === 'GET' ? HttpResponse.json({ id: 'server' }) : new HttpResponse(null, { status: WRITES.find(([, path]) => new URL(req.url).pathname === path)?.[3] ?? 500 }),
  );
  net.server.use(http.get(`${ORIGIN}/api/changes*`, () => HttpResponse.json({ notices: [] })));
  await request('sync-now');
  await until(
    async () => {
      const now = await request<EntrySummary[]>('entries');
      return now.length === WRITES.length && now.every((e) => PARKED.has(e.state));
    },
    10_000,
    'every queued write parked',
  );
  before = { entries: await request<EntrySummary[]>('entries'), status: await request<OutboxStatus>('status') };
  expect(before.status).toMatchObject({ pending: 0, inFlight: 0 });
}, 30_000);

afterAll(async () => {
  process.off('uncaughtExceptionMonitor', onEscape);
  process.off('unhandledRejection', onEscape);
  await scope?.teardown();
  net.server.close();
});

// ---------------------------------------------------------------------------
// Generators (built once the real ids are known, so near-misses of them can be made)

const anything = fc.anything({
  maxDepth: 3,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withDate: true,
  withTypedArray: true,
  withNullPrototype: true,
  withBigInt: true,
  withSparseArray: true,
});

function messages() {
  const real = before.entries.map((e) => e.id);
  /** Ids that are no entry's: other types, other strings, and near misses of the real ones. */
  const junkId = fc
    .oneof(
      anything,
      fc.string(),
      fc.uuid(),
      fc.constantFrom(...real).chain((id) => fc.constantFrom(id.toUpperCase(), ` ${id}`, `${id} `, `${id}x`, id.slice(1), [id], { id }, id.replace(/-/g, ''))),
    )
    .filter((id) => !(typeof id === 'string' && real.includes(id)));
  const action = fc.oneof(fc.constantFrom('retry', 'discard', 'replace', 'Retry', 'DISCARD', 'replace ', '', 'clear'), anything);
  const noticeLike = fc.oneof(
    anything,
    fc.record(
      {
        resource: fc.oneof(fc.constantFrom('todos', 'notes', '__proto__', 'constructor'), anything),
        id: fc.oneof(fc.constantFrom('t1', '.', '..', '../admin', 'a/b', 'a\\b', '\u0000', 'x'.repeat(1025), 1.5, 1e308), junkId),
        type: fc.oneof(fc.constantFrom('created', 'updated', 'deleted', 'Updated', 'patched'), anything),
        version: fc.oneof(fc.constantFrom(1, 1e308, Infinity, -1, 0.5, 'v2', ''), anything),
        cursor: fc.oneof(fc.constantFrom('c-1', '', 5), anything),
      },
      { requiredKeys: [] },
    ),
  );
  /** The args an operation was given: anything at all, or its own fields with wrong values. */
  const args = (op: string) =>
    fc.oneof(
      anything,
      op === 'notices'
        ? fc.record({ notices: fc.oneof(fc.array(noticeLike, { maxLength: 6 }), anything) }, { requiredKeys: [] })
        : fc.record({ id: junkId, action, body: anything, extra: anything }, { requiredKeys: [] }),
    );
  const safeOp = fc.constantFrom('status', 'entries', 'retry', 'discard', 'resolve', 'notices');
  const unknownOp = fc.oneof(
    fc.string().filter((op) => !OPERATIONS.includes(op)),
    fc.constantFrom(...PROTOTYPE_NAMES, 'Status', 'STATUS', 'sync_now', 'syncNow', 'clear ', ' clear', 'Clear', 'catchUp', 'answer', 'then'),
    fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.constant(undefined), fc.object({ maxDepth: 1 })),
    // Not strings, yet they read as a known, harmless operation's name when used as a key.
    fc.constantFrom(['status'], ['entries']),
  );
  return fc.oneof(
    // Not a request at all.
    anything.map((data) => ({ what: 'random', data })),
    fc
      .record({ kind: fc.constantFrom('outbox-request', 'outbox-event', 'Outbox-Request', ''), v: fc.oneof(fc.constant(1), anything), type: fc.string() })
      .map((data) => ({ what: 'random', data })),
    // Another protocol version (or none), with an operation that would be answered under v 1.
    fc
      .record(
        { kind: fc.constant('outbox-request'), v: fc.oneof(fc.constantFrom(0, 2, '1', 1.0000001, null, [1]), anything).filter((v) => v !== 1), op: safeOp, args: anything },
        { requiredKeys: ['kind', 'op'] },
      )
      .map((data) => ({ what: 'wrong-version', data })),
    // Unknown operations.
    fc
      .record({ kind: fc.constant('outbox-request'), v: fc.constant(1), op: unknownOp, args: anything }, { requiredKeys: ['kind', 'v'] })
      .map((data) => ({ what: 'unknown-op', data })),
    // Known operations with malformed arguments.
    safeOp
      .chain((op) => fc.record({ kind: fc.constant('outbox-request'), v: fc.constant(1), op: fc.constant(op), args: args(op) }, { requiredKeys: ['kind', 'v', 'op'] }))
      .map((data) => ({ what: 'malformed-args', data })),
  );
}

// ---------------------------------------------------------------------------

describe('the message handler, on generated messages', () => {
  it('never throws, answers each request (and only requests) with one well-formed reply, and leaves the outbox as it was', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      await fc.assert(
        fc.asyncProperty(messages(), fc.boolean(), async ({ what, data }, withPort) => {
          escaped.length = 0;
          const { replies, reasons } = await deliver(data, withPort);
          expect(reasons, `waitUntil rejected for ${fc.stringify(data)}`).toEqual([]);
          expect(replies).toHaveLength(withPort && isRequest(data) ? 1 : 0);
          if (replies.length) {
            const reply = replies[0];
            checkReply(reply);
            const { op, args } = data as { op: unknown; args: unknown };
            if (what === 'unknown-op' && typeof op === 'string' && !PROTOTYPE_NAMES.includes(op)) {
              expect(reply).toMatchObject({ ok: false, error: { code: 'unknown-operation' } });
            }
            if (what === 'malformed-args') {
              if (op === 'status' || op === 'entries') expect(reply).toEqual({ ok: true, value: op === 'status' ? before.status : before.entries });
              // No entry has the id: nothing to retry, discard or resolve.
              if ((op === 'retry' || op === 'discard') && reply.ok) expect(reply.value).toBe(false);
              // Any other action, whatever its type (an object holding a BigInt included: the message names only its type), is refused as such.
              if (op === 'resolve' && isRecord(args) && !['retry', 'discard', 'replace'].includes(args.action as string)) {
                expect(reply).toMatchObject({ ok: false, error: { code: 'bad-resolution' } });
              } else if (op === 'resolve' && reply.ok) expect(reply.value).toBe(false);
              if (op === 'notices' && isRecord(args)) {
                // Each notice is checked: those of the notice shape are taken, the rest counted as ignored.
                const list = Array.isArray(args.notices) ? args.notices : [];
                const accepted = list.filter((n) => parseNotice(n, known) !== undefined).length;
                expect(reply).toEqual({ ok: true, value: { accepted, ignored: list.length - accepted } });
              }
            }
          }
          expect(escaped, `thrown out of the event for ${fc.stringify(data)}`).toEqual([]);
          // The outbox is as it was before the run.
          expect(await request<EntrySummary[]>('entries')).toEqual(before.entries);
          expect(await request<OutboxStatus>('status')).toEqual(before.status);
        }),
        RUNS,
      );
    } finally {
      warn.mockRestore();
    }
  }, 120_000);
});
