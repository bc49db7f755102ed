/**
 * The todo example's own server (examples/todo/server.mjs), run as a user runs
 * it, as a child process on a free port with its data in a temporary folder,
 * and asked over real HTTP: the REST API, conditional requests,
 * Idempotency-Key, the change feed, and data that outlives a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream } from '../server/support/todo-example.js';

const exampleDir = fileURLToPath(new URL('../../examples/todo/', import.meta.url));
const serverScript = join(exampleDir, 'server.mjs');
const distDir = fileURLToPath(new URL('../../dist/', import.meta.url));
const URL_LINE = /^todo example: (http:\/\/127\.0\.0\.1:\d+\/)$/;
const STARTUP_MS = 15_000;

interface Todo {
  id: string;
  title: string;
  done: boolean;
  updatedAt: string;
}

interface Notice {
  resource: string;
  id: string;
  type: 'created' | 'updated' | 'deleted';
  version: number;
  cursor: string;
}

interface Example {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/` */
  url: string;
  stdout: () => string;
  stderr: () => string;
}

/** Starts the server and resolves once it has printed its URL line. */
async function startExample(dataFile: string, env: Record<string, string> = { TODO_QUIET: '1' }): Promise<Example> {
  const { TODO_QUIET: _inherited, ...parentEnv } = process.env;
  const child = spawn(process.execPath, [serverScript], {
    env: { ...parentEnv, PORT: '0', TODO_DATA: dataFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print its URL within ${STARTUP_MS} ms`), STARTUP_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`the todo example ${why}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    };
    // 'close', not 'exit': by then everything it wrote to stderr has been read.
    child.once('close', (code) => fail(`exited (${code}) before printing its URL`));
    child.stdout!.on('data', (chunk) => {
      stdout += String(chunk);
      const match = URL_LINE.exec(stdout.split('\n')[0] ?? '');
      if (!match || !stdout.includes('\n')) return;
      clearTimeout(timer);
      child.removeAllListeners('close');
      resolve(match[1]!);
    });
  });
  return { child, url, stdout: () => stdout, stderr: () => stderr };
}

async function stopExample(example: Example | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!example) return null;
  const { child } = example;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill(signal);
  const [code] = await exited;
  return code;
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** The data file as JSON, or undefined while it is missing or being replaced. */
async function readData(file: string): Promise<{ format?: number; outbox?: { keys?: unknown } } | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function until(what: string, probe: () => Promise<boolean>, withinMs = 10_000) {
  const deadline = Date.now() + withinMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let dir: string;
let example: Example;
let base: string;
const api = (path: string, init?: RequestInit) => fetch(new URL(path, base), init);
const list = async (query = ''): Promise<Todo[]> => (await api(`api/todos${query}`)).json() as Promise<Todo[]>;
const create = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => api('api/todos', { method: 'POST', ...json(body, headers) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'todo-example-'));
  example = await startExample(join(dir, 'todos.json'));
  base = example.url;
}, STARTUP_MS + 5_000);

afterAll(async () => {
  await stopExample(example);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the todo example server', () => {
  it('prints its URL as the first line, then what to try, and with TODO_QUIET no access log', async () => {
    const lines = example.stdout().split('\n');
    expect(lines[0]).toMatch(URL_LINE);
    expect(lines.filter((line) => line.startsWith('todo example:'))).toHaveLength(1);
    expect(example.stdout()).toMatch(/DevTools → Network → Offline/);
    expect(example.stdout()).toMatch(/[Rr]eload/);
    await list();
    expect(example.stdout()).not.toMatch(/^\d\d:\d\d:\d\d GET /m);
  });

  it('starts with three sample todos', async () => {
    const todos = await list();
    expect(todos).toHaveLength(3);
    for (const todo of todos) {
      expect(Object.keys(todo).sort()).toEqual(['done', 'id', 'title', 'updatedAt']);
      expect(todo.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(todo.updatedAt))).toBe(false);
    }
  });

  it('serves the page, its script and style, the manifest, and the worker files from dist/', async () => {
    const page = await api('');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script src="/register.js" defer data-ui></script>');
    expect((await api('app.js')).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await api('style.css')).headers.get('content-type')).toMatch(/^text\/css/);
    const manifest = await api('offline.manifest.json');
    expect(await manifest.json()).toEqual(JSON.parse(await readFile(join(exampleDir, 'offline.manifest.json'), 'utf8')));
    for (const file of ['sw.js', 'register.js']) {
      const response = await api(file);
      if (existsSync(join(distDir, file))) {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
      } else {
        expect(response.status).toBe(500);
        expect(await response.text()).toContain('run npm run build');
      }
    }
    expect((await api('nothing-here')).status).toBe(404);
  });

  it('creates, reads, replaces, patches and deletes a todo', async () => {
    const created = await create({ title: 'Buy milk' });
    expect(created.status).toBe(201);
    const todo = (await created.json()) as Todo;
    expect(todo).toMatchObject({ title: 'Buy milk', done: false });
    expect(todo.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.headers.get('location')).toBe(`/api/todos/${todo.id}`);
    expect(created.headers.get('etag')).toBe(`"${todo.id}-1"`);

    const read = await api(`api/todos/${todo.id}`);
    expect(read.headers.get('etag')).toBe(`"${todo.id}-1"`);
    expect(await read.json()).toEqual(todo);
    expect((await list()).map((t) => t.id)).toContain(todo.id);

    const replaced = await api(`api/todos/${todo.id}`, { method: 'PUT', ...json({ title: 'Buy oat milk', done: true }) });
    expect(replaced.status).toBe(200);
    expect(replaced.headers.get('etag')).toBe(`"${todo.id}-2"`);
    expect(await replaced.json()).toMatchObject({ id: todo.id, title: 'Buy oat milk', done: true });

    const patched = await api(`api/todos/${todo.id}`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"done":false}' });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe(`"${todo.id}-3"`);
    expect(await patched.json()).toMatchObject({ id: todo.id, title: 'Buy oat milk', done: false });

    const deleted = await api(`api/todos/${todo.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect((await api(`api/todos/${todo.id}`)).status).toBe(404);
    expect((await list()).map((t) => t.id)).not.toContain(todo.id);
    expect((await api(`api/todos/${todo.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('keeps a new client-made id, and gives a taken one a fresh id', async () => {
    const id = crypto.randomUUID();
    const first = await create({ id, title: 'Made offline' });
    expect(first.status).toBe(201);
    expect(((await first.json()) as Todo).id).toBe(id);
    expect(first.headers.get('location')).toBe(`/api/todos/${id}`);
    expect(((await (await api(`api/todos/${id}`)).json()) as Todo).title).toBe('Made offline');

    const again = await create({ id, title: 'Another one' });
    expect(again.status).toBe(201);
    const other = (await again.json()) as Todo;
    expect(other.id).not.toBe(id);
    expect(((await (await api(`api/todos/${id}`)).json()) as Todo).title).toBe('Made offline');

    expect((await create({ id: 'not/a/segment', title: 'x' })).status).toBe(422);
    expect((await create({ id: 42, title: 'x' })).status).toBe(422);
  });

  it('filters the list with ?done=true|false', async () => {
    const all = await list();
    expect(await list('?done=true')).toEqual(all.filter((t) => t.done));
    expect(await list('?done=false')).toEqual(all.filter((t) => !t.done));
    expect((await api('api/todos?done=maybe')).status).toBe(400);
  });

  it('honours If-Match (412 with the current item and ETag) and If-None-Match (304)', async () => {
    const todo = (await (await create({ title: 'Conditional' })).json()) as Todo;
    const url = `api/todos/${todo.id}`;
    const stale = `"${todo.id}-1"`;
    expect((await api(url, { method: 'PATCH', ...json({ title: 'Changed' }, { 'if-match': stale }) })).status).toBe(200);

    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const refused = await api(url, { method, ...json({ title: 'Lost update' }, { 'if-match': stale }) });
      expect(refused.status).toBe(412);
      expect(refused.headers.get('etag')).toBe(`"${todo.id}-2"`);
      const body = (await refused.json()) as { error: string; current: Todo };
      expect(body.error).toEqual(expect.any(String));
      expect(body.current).toMatchObject({ id: todo.id, title: 'Changed' });
    }
    expect((await api(url, { method: 'PATCH', ...json({ done: true }, { 'if-match': `W/"${todo.id}-2"` }) })).status).toBe(412);
    expect((await api(url, { method: 'PATCH', ...json({ done: true }, { 'if-match': `"${todo.id}-2"` }) })).status).toBe(200);

    const current = await api(url);
    const etag = current.headers.get('etag')!;
    expect(etag).toBe(`"${todo.id}-3"`);
    const notModified = await api(url, { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(etag);
    expect((await api(url, { headers: { 'if-none-match': stale } })).status).toBe(200);

    const collection = await api('api/todos');
    const listTag = collection.headers.get('etag')!;
    expect(listTag).toMatch(/^"[^"]+"$/);
    expect((await api('api/todos', { headers: { 'if-none-match': listTag } })).status).toBe(304);

    expect((await api(url, { method: 'DELETE', headers: { 'if-match': etag } })).status).toBe(204);
  });

  it('answers a repeated Idempotency-Key with the stored response and applies the request once', async () => {
    const before = (await list()).length;
    const key = `"${crypto.randomUUID()}"`;
    const body = { id: crypto.randomUUID(), title: 'Exactly once' };
    const first = await create(body, { 'idempotency-key': key });
    const firstBody = await first.text();
    const second = await create(body, { 'idempotency-key': key });
    expect(second.status).toBe(first.status);
    expect(second.status).toBe(201);
    expect(await second.text()).toBe(firstBody);
    for (const header of ['content-type', 'etag', 'location']) expect(second.headers.get(header)).toBe(first.headers.get(header));
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect((await list()).length).toBe(before + 1);

    // A server-assigned id too: without the key this would make a second todo.
    const anonymous = { title: 'No id of its own' };
    const key2 = `"${crypto.randomUUID()}"`;
    const a = (await (await create(anonymous, { 'idempotency-key': key2 })).json()) as Todo;
    const b = (await (await create(anonymous, { 'idempotency-key': key2 })).json()) as Todo;
    expect(b.id).toBe(a.id);
    expect((await list()).filter((t) => t.title === 'No id of its own')).toHaveLength(1);

    // A PATCH with a key moves the version once.
    const key3 = `"${crypto.randomUUID()}"`;
    const patch = { method: 'PATCH', ...json({ done: true }, { 'idempotency-key': key3 }) };
    expect((await api(`api/todos/${a.id}`, patch)).headers.get('etag')).toBe(`"${a.id}-2"`);
    expect((await api(`api/todos/${a.id}`, patch)).headers.get('etag')).toBe(`"${a.id}-2"`);
    expect((await api(`api/todos/${a.id}`)).headers.get('etag')).toBe(`"${a.id}-2"`);
  });

  it('refuses the same Idempotency-Key with a different request (422), and a malformed key (400)', async () => {
    const key = `"${crypto.randomUUID()}"`;
    expect((await create({ title: 'First use' }, { 'idempotency-key': key })).status).toBe(201);
    const before = (await list()).length;

    const reused = await create({ title: 'Second use' }, { 'idempotency-key': key });
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toBe('application/problem+json');
    expect(await reused.json()).toMatchObject({ status: 422, code: 'idempotency-key-reused', title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
    const elsewhere = await api('api/todos/some-id', { method: 'PATCH', ...json({ title: 'First use' }, { 'idempotency-key': key }) });
    expect(elsewhere.status).toBe(422);
    expect((await list()).length).toBe(before);

    const bare = await create({ title: 'Unquoted key' }, { 'idempotency-key': crypto.randomUUID() });
    expect(bare.status).toBe(400);
    expect(bare.headers.get('content-type')).toBe('application/problem+json');
    expect(await bare.json()).toMatchObject({ status: 400, code: 'idempotency-key-unquoted', detail: expect.stringContaining('Quote it') });
    const twoKeys = await create({ title: 'Two keys' }, { 'idempotency-key': '"one", "two"' });
    expect(twoKeys.status).toBe(400);
    expect(await twoKeys.json()).toMatchObject({ code: 'idempotency-key-multiple' });
    expect((await create({ title: 'Escaped' }, { 'idempotency-key': '"a\\"b"' })).status).toBe(201);
    expect((await list()).length).toBe(before + 1);
  });

  it('answers 409 to a request whose Idempotency-Key is still being processed', async () => {
    // The key is claimed once the whole request has arrived (its body is part
    // of the fingerprint), and saved in the data file before the handler
    // runs; this server then holds every write for TODO_LATENCY_MS. So once
    // the file holds the claim, the first request is being processed.
    const slowDir = await mkdtemp(join(tmpdir(), 'todo-slow-'));
    const dataFile = join(slowDir, 'todos.json');
    let slow: Example | undefined;
    try {
      slow = await startExample(dataFile, { TODO_QUIET: '1', TODO_LATENCY_MS: '1500' });
      const at = (path: string, init?: RequestInit) => fetch(new URL(path, slow!.url), init);
      const key = `"${crypto.randomUUID()}"`;
      const request = () => ({ method: 'POST', ...json({ title: 'Slow write' }, { 'idempotency-key': key }) });

      const first = at('api/todos', request());
      await until('the claim is in the data file', async () =>
        Object.values(((await readData(dataFile))?.outbox?.keys ?? {}) as Record<string, { token?: string }>).some((k) => k.token),
      );
      const concurrent = await at('api/todos', request());
      expect(concurrent.status).toBe(409);
      expect(concurrent.headers.get('content-type')).toBe('application/problem+json');
      expect(concurrent.headers.get('retry-after')).toBe('1');
      expect(await concurrent.json()).toMatchObject({ status: 409, code: 'idempotency-key-in-flight' });

      const answered = await first;
      expect(answered.status).toBe(201);
      const firstBody = await answered.text();
      const retried = await at('api/todos', request());
      expect(retried.status).toBe(201);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect(await retried.text()).toBe(firstBody);
      const todos = (await (await at('api/todos')).json()) as Todo[];
      expect(todos.filter((t) => t.title === 'Slow write')).toHaveLength(1);
    } finally {
      await stopExample(slow, 'SIGKILL');
      await rm(slowDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('answers bad JSON with 400 and a bad title with 422, as JSON', async () => {
    const before = (await list()).length;
    const badJson = await api('api/todos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title": "unfinished' });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await badJson.json()).toEqual({ error: expect.stringMatching(/not JSON/) });

    for (const title of ['x'.repeat(501), 42, null, '', '   ']) {
      const refused = await create({ title });
      expect(refused.status, `title ${JSON.stringify(title)}`).toBe(422);
      expect(((await refused.json()) as { error: string }).error).toMatch(/title/);
    }
    expect((await create({})).status).toBe(422);
    expect((await create({ title: 'x', done: 'yes' })).status).toBe(422);
    expect((await list()).length).toBe(before);

    const longest = await create({ title: 'y'.repeat(500) });
    expect(longest.status).toBe(201);
    const { id } = (await longest.json()) as Todo;
    expect((await api(`api/todos/${id}`, { method: 'PATCH', ...json({ title: 'z'.repeat(501) }) })).status).toBe(422);
    expect((await api(`api/todos/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: 'nope' })).status).toBe(400);
    expect((await api(`api/todos/${id}`, { method: 'PATCH', ...json({ id: 'other' }) })).status).toBe(422);
  });

  it('streams a notice for each change as Server-Sent Events', async () => {
    const { cursor: head } = (await (await api('api/changes')).json()) as { cursor: string };
    const stream = await openStream(new URL('api/changes/stream', base).href);
    let reconnected: Awaited<ReturnType<typeof openStream>> | undefined;
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.response.headers.get('cache-control')).toBe('no-store');
      // The stream starts where the feed stands, so an EventSource that reconnects at once misses nothing.
      expect(await stream.next()).toEqual({ retry: '1000', id: head });

      const created = await create({ title: 'Announced' });
      const todo = (await created.json()) as Todo;
      const patched = await api(`api/todos/${todo.id}`, { method: 'PATCH', ...json({ done: true }) });
      const deleted = await api(`api/todos/${todo.id}`, { method: 'DELETE' });

      const events = [await stream.next(), await stream.next(), await stream.next()];
      const notices = events.map((e) => JSON.parse(e.data!) as Notice);
      expect(notices.map(({ cursor: _, ...rest }) => rest)).toEqual([
        { resource: 'todos', id: todo.id, type: 'created', version: 1 },
        { resource: 'todos', id: todo.id, type: 'updated', version: 2 },
        { resource: 'todos', id: todo.id, type: 'deleted', version: 3 },
      ]);
      events.forEach((e, i) => expect(e.id).toBe(notices[i]!.cursor));
      // Each write's answer names the cursor of its notice, so the page's worker can skip its own echo.
      expect([created, patched, deleted].map((r) => r.headers.get('x-change-cursor'))).toEqual(events.map((e) => e.id));
      expect(Object.keys(JSON.parse(events[0]!.data!))).toEqual(['resource', 'id', 'type', 'version', 'cursor']);

      // A reconnect with Last-Event-ID gets what came after it first.
      reconnected = await openStream(new URL('api/changes/stream', base).href, { 'last-event-id': events[0]!.id! });
      expect(await reconnected.next()).toEqual({ retry: '1000' });
      expect([await reconnected.next(), await reconnected.next()]).toEqual(events.slice(1));
    } finally {
      stream.close();
      reconnected?.close();
    }
  });

  it('answers ?since=<cursor> with the notices after it, and an unknown cursor with a reset', async () => {
    const start = (await (await api('api/changes')).json()) as { notices: Notice[]; cursor: string };
    expect(start).toEqual({ notices: [], cursor: expect.any(String) });

    const todo = (await (await create({ title: 'Caught up' })).json()) as Todo;
    await api(`api/todos/${todo.id}`, { method: 'PUT', ...json({ title: 'Caught up again' }) });
    const after = (await (await api(`api/changes?since=${encodeURIComponent(start.cursor)}`)).json()) as { notices: Notice[]; cursor: string };
    expect(after.notices.map((n) => [n.id, n.type, n.version])).toEqual([
      [todo.id, 'created', 1],
      [todo.id, 'updated', 2],
    ]);
    expect(after.cursor).toBe(after.notices[1]!.cursor);

    const none = (await (await api(`api/changes?since=${encodeURIComponent(after.cursor)}`)).json()) as { notices: Notice[]; cursor: string };
    expect(none).toEqual({ notices: [], cursor: after.cursor });

    // The page's worker then revalidates what it has cached, and goes on from the cursor given.
    for (const cursor of ['no-such-cursor', '']) expect(await (await api(`api/changes?since=${cursor}`)).json()).toEqual({ reset: true, cursor: after.cursor });
  });
});

describe('the todo example server across a restart', () => {
  it('keeps todos, versions, the change log and idempotency keys in TODO_DATA, written atomically', async () => {
    const restartDir = await mkdtemp(join(tmpdir(), 'todo-restart-'));
    const dataFile = join(restartDir, 'nested', 'todos.json');
    let first: Example | undefined;
    let second: Example | undefined;
    try {
      first = await startExample(dataFile);
      const at = (path: string, init?: RequestInit) => fetch(new URL(path, first!.url), init);
      const seeded = (await (await at('api/todos')).json()) as Todo[];
      const key = `"${crypto.randomUUID()}"`;
      const post = { method: 'POST', ...json({ id: 'kept-1', title: 'Survives a restart' }, { 'idempotency-key': key }) };
      const created = await at('api/todos', post);
      const createdBody = await created.text();
      await at(`api/todos/${seeded[0]!.id}`, { method: 'PATCH', ...json({ title: 'Renamed before the crash' }) });
      await at(`api/todos/${seeded[1]!.id}`, { method: 'DELETE' });
      const { cursor } = (await (await at('api/changes')).json()) as { cursor: string };

      // Killed outright: what was answered must already be on disk.
      await stopExample(first, 'SIGKILL');
      expect(await readdir(join(restartDir, 'nested'))).toEqual(['todos.json']);
      JSON.parse(await readFile(dataFile, 'utf8'));

      second = await startExample(dataFile);
      const again = (path: string, init?: RequestInit) => fetch(new URL(path, second!.url), init);
      const todos = (await (await again('api/todos')).json()) as Todo[];
      expect(todos.map((t) => t.id)).toEqual([seeded[0]!.id, seeded[2]!.id, 'kept-1']);
      expect(todos[0]!.title).toBe('Renamed before the crash');
      expect((await again('api/todos/kept-1')).headers.get('etag')).toBe('"kept-1-1"');
      expect((await again(`api/todos/${seeded[0]!.id}`)).headers.get('etag')).toBe(`"${seeded[0]!.id}-2"`);

      const replayed = await again('api/todos', post);
      expect(replayed.status).toBe(201);
      expect(await replayed.text()).toBe(createdBody);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      expect(((await (await again('api/todos')).json()) as Todo[]).length).toBe(3);

      await again('api/todos/kept-1', { method: 'PATCH', ...json({ done: true }) });
      const since = (await (await again(`api/changes?since=${encodeURIComponent(cursor)}`)).json()) as { notices: Notice[] };
      expect(since.notices.map((n) => [n.id, n.type, n.version])).toEqual([['kept-1', 'updated', 2]]);

      // A polite stop exits cleanly.
      expect(await stopExample(second, 'SIGTERM')).toBe(0);
    } finally {
      await stopExample(first, 'SIGKILL');
      await stopExample(second, 'SIGKILL');
      await rm(restartDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('takes over a data file of format 1 (before offline-outbox/server): its todos and versions kept, and says so', async () => {
    const oldDir = await mkdtemp(join(tmpdir(), 'todo-format1-'));
    let old: Example | undefined;
    try {
      const dataFile = join(oldDir, 'todos.json');
      const kept = { id: 'old-1', title: 'From before', done: false, updatedAt: '2025-01-01T00:00:00.000Z' };
      const formatOne = {
        format: 1,
        todos: [kept],
        versions: { 'old-1': 4, gone: 2 },
        changes: { epoch: 'abcd', last: 6, notices: [] },
        idempotency: [],
      };
      await writeFile(dataFile, JSON.stringify(formatOne));
      old = await startExample(dataFile);
      expect(old.stderr()).toMatch(/format 1.*todos are kept/);
      const at = (path: string, init?: RequestInit) => fetch(new URL(path, old!.url), init);
      expect(await (await at('api/todos')).json()).toEqual([kept]);
      expect((await at('api/todos/old-1')).headers.get('etag')).toBe('"old-1-4"');
      // A deleted todo's version is kept too: the id re-created never reuses an ETag.
      expect((await at('api/todos', { method: 'POST', ...json({ id: 'gone', title: 'Again' }) })).headers.get('etag')).toBe('"gone-3"');
      const saved = (await readData(dataFile))!;
      expect(saved.format).toBe(2);
      expect(saved.outbox).toEqual(expect.objectContaining({ keys: {} }));
    } finally {
      await stopExample(old);
      await rm(oldDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses a data file of a format it does not know, and says what to do', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'todo-format-'));
    try {
      const dataFile = join(otherDir, 'todos.json');
      await writeFile(dataFile, '{"format": 99}');
      await expect(startExample(dataFile)).rejects.toThrow(/exited \(1\)[\s\S]*not a data file of this example[\s\S]*delete it or point TODO_DATA elsewhere/);
      expect(await readFile(dataFile, 'utf8')).toBe('{"format": 99}');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses to start over a data file it cannot read, and says what to do', async () => {
    const badDir = await mkdtemp(join(tmpdir(), 'todo-bad-'));
    try {
      const dataFile = join(badDir, 'todos.json');
      await writeFile(dataFile, '{"format": 1, "todos": [');
      await expect(startExample(dataFile)).rejects.toThrow(/exited \(1\)[\s\S]*is not valid JSON[\s\S]*delete it/);
      expect(await readFile(dataFile, 'utf8')).toBe('{"format": 1, "todos": [');
    } finally {
      await rm(badDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('logs one line per request unless TODO_QUIET=1', async () => {
    const logDir = await mkdtemp(join(tmpdir(), 'todo-log-'));
    let loud: Example | undefined;
    try {
      loud = await startExample(join(logDir, 'todos.json'), {});
      await fetch(new URL('api/todos?done=true', loud.url));
      await fetch(new URL('api/todos/missing', loud.url), { method: 'DELETE' });
      for (let i = 0; i < 50 && !loud.stdout().includes('DELETE'); i++) await new Promise((r) => setTimeout(r, 20));
      const lines = loud
        .stdout()
        .split('\n')
        .filter((line) => /^\d\d:\d\d:\d\d /.test(line));
      expect(lines.map((line) => line.slice(9))).toEqual(['GET /api/todos?done=true 200', 'DELETE /api/todos/missing 404']);
    } finally {
      await stopExample(loud);
      await rm(logDir, { recursive: true, force: true });
    }
  }, 30_000);
});
