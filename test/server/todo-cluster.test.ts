/**
 * `npm run start:cluster` (scripts/start-cluster.mjs) as a user runs it: two
 * instances of the todo example on one Redis (a real redis-server, given as
 * REDIS_URL) behind its round-robin proxy, and what it says when
 * redis-server is missing.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../support/redis-server.js';
import { CLUSTER_SCRIPT, kill, newKey, openStream, post, requireBuild, STARTUP_MS, type Todo, until } from './support/todo-example.js';

beforeAll(() => requireBuild());

describe('scripts/start-cluster.mjs (npm run start:cluster)', () => {
  it('serves two instances behind its round-robin proxy, streams through it unbuffered, and stops everything on Ctrl-C', async () => {
    const own = await startRedis();
    const child = spawn(process.execPath, [CLUSTER_SCRIPT], { env: { ...process.env, PORT: '0', REDIS_URL: own.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += String(chunk)));
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let stream: Awaited<ReturnType<typeof openStream>> | undefined;
    try {
      const origin = await until('the cluster printed its URL', async () => /^todo cluster: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(output)?.[1], STARTUP_MS);
      const instancePorts = [...output.matchAll(/instance [ab]: http:\/\/127\.0\.0\.1:(\d+)\//g)].map((m) => m[1]);
      expect(instancePorts).toHaveLength(2);
      const at = (path: string, init?: RequestInit) => fetch(new URL(path, origin), init);

      stream = await openStream(new URL('api/changes/stream', origin).href);
      const streamedBy = stream.response.headers.get('x-upstream');
      const key = newKey();
      const first = await at('api/todos', post({ title: 'Through the proxy' }, key));
      const second = await at('api/todos', post({ title: 'Through the proxy' }, key));
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(new Set([streamedBy, first.headers.get('x-upstream'), second.headers.get('x-upstream')])).toEqual(new Set(['a', 'b']));
      expect(first.headers.get('x-upstream')).not.toBe(second.headers.get('x-upstream'));
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      const cursor = first.headers.get('x-change-cursor')!;
      // The event arrives while the stream stays open: the proxy does not hold it back.
      expect((await stream.nextWithData()).id).toBe(cursor);
      stream.close();

      // Last-Event-ID goes through: a reconnect gets what it missed first.
      const patched = await at(`api/todos/${((await first.json()) as Todo).id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"done":true}' });
      stream = await openStream(new URL('api/changes/stream', origin).href, { 'last-event-id': cursor });
      expect((await stream.nextWithData()).id).toBe(patched.headers.get('x-change-cursor'));
      stream.close();

      child.kill('SIGINT');
      expect((await exited)[0]).toBe(0);
      for (const port of instancePorts) await expect(fetch(`http://127.0.0.1:${port}/api/todos`)).rejects.toThrow();
      expect(output).toMatch(/\[[ab]\] \d\d:\d\d:\d\d POST \/api\/todos 201/);
    } finally {
      stream?.close();
      // SIGTERM: the script stops its instances before it exits.
      await kill(child, 'SIGTERM');
      await own.stop();
    }
  }, 45_000);

  it('says how to install redis-server when it is missing and REDIS_URL is not set, and exits 1', async () => {
    const { REDIS_URL: _unset, ...env } = process.env;
    const empty = await mkdtemp(join(tmpdir(), 'no-redis-'));
    const child = spawn(process.execPath, [CLUSTER_SCRIPT], { env: { ...env, PATH: empty }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toMatch(/redis-server is not installed/);
    expect(stderr).toMatch(/apt-get install redis-server/);
    expect(stderr).toMatch(/brew install redis/);
    expect(stderr).toMatch(/REDIS_URL=redis:\/\//);
    await rm(empty, { recursive: true, force: true });
  });
});
