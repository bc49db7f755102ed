/**
 * Many instances: processes of the todo example (examples/todo/server.mjs,
 * which imports `offline-outbox/server` from dist/ as a user would) sharing
 * one real redis-server. A is slow (its writes wait TODO_LATENCY_MS after
 * their key is claimed), so it can be killed mid-request; B and C are not.
 * Every lease is TODO_LEASE_SECONDS.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type Instance, kill, list, newKey, openStream, post, requireBuild, STARTUP_MS, startInstance as startExample, type Todo, titled, until } from './support/todo-example.js';

const LATENCY_MS = 1500; // A's writes, after the claim
const LEASE_SECONDS = 2;
const KEY_PATTERN = 'todo:outbox:key:*'; // the example's redisStore prefix

let redis: RedisServer;
let inspect: ReturnType<typeof createClient>;
let dataDir: string;
const started: Instance[] = [];
let a: Instance;
let b: Instance;

/** An instance on the shared Redis unless `env` names another, killed in afterAll. */
async function startInstance(name: string, env: Record<string, string> = {}): Promise<Instance> {
  const instance = await startExample(name, { REDIS_URL: redis.url, TODO_LEASE_SECONDS: String(LEASE_SECONDS), TODO_DATA: join(dataDir, `${name}.json`), ...env });
  started.push(instance);
  return instance;
}

beforeAll(async () => {
  requireBuild();
  redis = await startRedis();
  dataDir = await mkdtemp(join(tmpdir(), 'todo-cluster-'));
  inspect = createClient({ url: redis.url });
  await inspect.connect();
  [a, b] = await Promise.all([startInstance('A', { TODO_LATENCY_MS: String(LATENCY_MS) }), startInstance('B')]);
}, STARTUP_MS + 10_000);

afterAll(async () => {
  for (const { child } of started) await kill(child);
  await inspect?.close();
  await redis?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('two instances of the todo example on one Redis', () => {
  it('serve the same todos: a write through one is read through the other at once', async () => {
    const created = await b.api('api/todos', post({ title: 'Shared' }));
    expect(created.status).toBe(201);
    const todo = (await created.json()) as Todo;
    const read = await a.api(`api/todos/${todo.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(created.headers.get('etag'));
    expect((await list(a)).map((t) => t.id)).toEqual((await list(b)).map((t) => t.id));
  });

  it('apply a POST delivered through A and replayed through B once, B answering with A’s answer', async () => {
    const key = newKey();
    const body = { title: 'Delivered once' };
    const first = await a.api('api/todos', post(body, key));
    expect(first.status).toBe(201);
    const firstBody = await first.text();

    const replayed = await b.api('api/todos', post(body, key));
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await replayed.text()).toBe(firstBody);
    for (const header of ['content-type', 'etag', 'location', 'x-change-cursor']) expect(replayed.headers.get(header), header).toBe(first.headers.get(header));

    expect(await titled(a, 'Delivered once')).toHaveLength(1);
    expect(await titled(b, 'Delivered once')).toHaveLength(1);
  });

  it('deliver a notice published by a write on A to an SSE client connected to B, its id A’s X-Change-Cursor', async () => {
    const stream = await openStream(new URL('api/changes/stream', b.url).href);
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const created = await a.api('api/todos', post({ title: 'Announced across instances' }));
      const todo = (await created.json()) as Todo;
      const cursor = created.headers.get('x-change-cursor');
      expect(cursor).toEqual(expect.any(String));

      const event = await stream.nextWithData();
      expect(event.id).toBe(cursor);
      expect(JSON.parse(event.data!)).toEqual({ resource: 'todos', id: todo.id, type: 'created', version: 1, cursor });
    } finally {
      stream.close();
    }
  });

  it('continue A’s cursor on B: ?since=<cursor from A> answers what came after it, from both', async () => {
    const first = await a.api('api/todos', post({ title: 'Cursor one' }));
    const from = first.headers.get('x-change-cursor')!;
    const second = (await (await a.api('api/todos', post({ title: 'Cursor two' }))).json()) as Todo;
    const thirdAnswer = await b.api(`api/todos/${second.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"done":true}' });
    expect(thirdAnswer.status).toBe(200);
    const last = thirdAnswer.headers.get('x-change-cursor')!;

    const since = await b.api(`api/changes?since=${encodeURIComponent(from)}`);
    expect(since.status).toBe(200);
    const page = (await since.json()) as { notices: { id: string; type: string; cursor: string }[]; cursor: string; reset?: boolean };
    expect(page.reset).toBeUndefined();
    expect(page.notices.map((n) => [n.id, n.type])).toEqual([
      [second.id, 'created'],
      [second.id, 'updated'],
    ]);
    expect(page.notices.at(-1)!.cursor).toBe(last);
    expect(page.cursor).toBe(last);

    const onA = (await (await a.api(`api/changes?since=${encodeURIComponent(from)}`)).json()) as typeof page;
    expect(onA).toEqual(page);
  });

  it('commit concurrent writes through two instances without losing one, and check If-Match against what is committed', async () => {
    const c = await startInstance('C');
    const titles = Array.from({ length: 24 }, (_, i) => `Concurrent ${i}`);
    const answers = await Promise.all(titles.map((title, i) => (i % 2 ? b : c).api('api/todos', post({ title }))));
    expect(answers.map((r) => r.status)).toEqual(titles.map(() => 201));
    const listed = (await list(b)).map((t) => t.title);
    expect(titles.filter((title) => listed.filter((t) => t === title).length !== 1)).toEqual([]);

    const todo = (await (await b.api('api/todos', post({ title: 'Contested' }))).json()) as Todo;
    const etag = (await c.api(`api/todos/${todo.id}`)).headers.get('etag')!;
    const patch = (title: string): RequestInit => ({ method: 'PATCH', headers: { 'content-type': 'application/json', 'if-match': etag }, body: JSON.stringify({ title }) });
    const [onB, onC] = await Promise.all([b.api(`api/todos/${todo.id}`, patch('B wins')), c.api(`api/todos/${todo.id}`, patch('C wins'))]);
    expect([onB.status, onC.status].sort()).toEqual([200, 412]);
    const winner = onB.status === 200 ? 'B wins' : 'C wins';
    expect(((await (await b.api(`api/todos/${todo.id}`)).json()) as Todo).title).toBe(winner);
  });

  it('free a key held by A when A is killed mid-request, after the lease, and B then completes it once', async () => {
    const key = newKey();
    const body = { title: 'Outlived its instance' };
    const before = new Set(await inspect.keys(KEY_PATTERN));

    // A claims the key, then waits LATENCY_MS before it would touch the todos.
    const onA = a.api('api/todos', post(body, key)).then(
      () => 'answered',
      () => 'connection lost',
    );
    await until('A claimed the key in Redis', async () => ((await inspect.keys(KEY_PATTERN)).some((k) => !before.has(k)) ? true : undefined), LATENCY_MS / 2);
    const claimedAt = Date.now();
    const exited = once(a.child, 'exit');
    a.child.kill('SIGKILL');
    await exited;
    expect(await onA).toBe('connection lost');
    expect(await titled(b, body.title)).toHaveLength(0);

    // Still leased: the same request on B is told the key is in use.
    const early = await b.api('api/todos', post(body, key));
    expect(early.status).toBe(409);

    const done = await until(
      'B completed the request once the lease ran out',
      async () => {
        const answer = await b.api('api/todos', post(body, key));
        return answer.status === 409 ? undefined : answer;
      },
      LEASE_SECONDS * 1000 + 5000,
    );
    // Freed by the lease running out (not at once, not after the key's lifetime).
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 500);
    expect(done.status).toBe(201);
    expect(done.headers.get('idempotent-replayed')).toBeNull();
    const created = (await done.json()) as Todo;
    expect(await titled(b, body.title)).toEqual([expect.objectContaining({ id: created.id })]);

    const again = await b.api('api/todos', post(body, key));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as Todo).id).toBe(created.id);
    expect(await titled(b, body.title)).toHaveLength(1);
  }, 30_000);
});

describe('an instance whose Redis goes away', () => {
  it('answers 503 with Retry-After while its Redis is away, and serves again once it is back', async () => {
    const own = await startRedis();
    let lone: Instance | undefined;
    try {
      lone = await startInstance('D', { REDIS_URL: own.url });
      expect((await lone.api('api/todos')).status).toBe(200);
      await own.stop(true);

      const read = await lone.api('api/todos');
      expect(read.status).toBe(503);
      expect(read.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
      const keyed = await lone.api('api/todos', post({ title: 'While Redis is away' }, newKey()));
      expect(keyed.status).toBe(503);
      expect(keyed.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
      expect((await lone.api('api/todos', post({ title: 'While Redis is away' }))).status).toBe(503);
      expect((await lone.api('api/changes?since=0-0')).status).toBe(503);

      const back = await startRedis(own.port);
      try {
        // A new, empty Redis on the same port: the instance's connections come back, each on its own schedule.
        const again = (method: string) =>
          until(
            `the instance serves ${method}s again`,
            async () => {
              const answer = method === 'GET' ? await lone!.api('api/todos') : await lone!.api('api/todos', post({ title: 'Redis is back' }, key));
              if (answer.status !== 503) return answer;
              expect(answer.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
              return undefined;
            },
            10_000,
          );
        const key = newKey();
        expect((await again('GET')).status).toBe(200);
        expect((await again('POST')).status).toBe(201);
        expect(await titled(lone, 'Redis is back')).toHaveLength(1);
      } finally {
        await back.stop();
      }
    } finally {
      if (lone) await kill(lone.child);
    }
  }, 30_000);
});
