import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { runCli } from '../support/cli.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorker, type ServiceWorkerScope } from '../support/sw-scope.js';

const distSw = fileURLToPath(new URL('../../dist/sw.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/manifests/', import.meta.url));

const run = runCli;

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'offline-outbox-build-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('offline-outbox build', () => {
  it('writes the manifest, inlined, followed by the drop-in worker, and prints the path and size', async () => {
    const out = join(tmp, 'public', 'sw.js');
    const { code, stdout, stderr } = await run(fixtures, 'build', '--manifest', 'good.json', '--out', out);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(new RegExp(`^wrote ${out.replace(/[\\.]/g, '\\$&')}: \\d+\\.\\d KB, \\d+\\.\\d KB gzipped \\(7 routes inlined\\)\\n$`));

    const built = readFileSync(out);
    const manifest = JSON.parse(readFileSync(join(fixtures, 'good.json'), 'utf8'));
    const head = Buffer.from(`self.offlineOutboxManifest = ${JSON.stringify(manifest)};\n`);
    expect(built.subarray(0, head.length).toString('utf8')).toBe(head.toString('utf8'));
    expect(built.subarray(head.length).equals(readFileSync(distSw))).toBe(true);
  });

  it('leaves "$schema" out of the inlined manifest: it is for editors, and may name a path on the developer\'s disk', async () => {
    const manifest = { $schema: '../node_modules/offline-outbox/dist/manifest.schema.json', version: 1, routes: [{ match: '/', cache: { strategy: 'network-first' } }] };
    writeFileSync(join(tmp, 'm.json'), JSON.stringify(manifest));
    expect((await run(tmp, 'build', '--manifest', 'm.json', '--out', 'sw.js')).code).toBe(0);
    const { $schema: _, ...inlined } = manifest;
    expect(readFileSync(join(tmp, 'sw.js'), 'utf8').split('\n')[0]).toBe(`self.offlineOutboxManifest = ${JSON.stringify(inlined)};`);
  });

  it('reports an invalid manifest as check does (exit 1) and writes nothing', async () => {
    const out = join(tmp, 'public', 'sw.js');
    const { code, stdout, stderr } = await run(fixtures, 'build', '--manifest', 'bad-priority.json', '--out', out);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('bad-priority.json: routes[2].queue.priority: expected one of high, normal, low');
    expect(stderr).toBe(readFileSync(join(fixtures, 'bad-priority.expected'), 'utf8'));
    expect(existsSync(join(tmp, 'public'))).toBe(false);
  });

  it('locates a JSON syntax error by line and column, and writes nothing', async () => {
    const out = join(tmp, 'sw.js');
    const { code, stderr } = await run(fixtures, 'build', '--manifest', 'bad-syntax.json', '--out', out);
    expect(code).toBe(1);
    expect(stderr).toBe('bad-syntax.json:4:70: JSON syntax error: trailing comma after routes[0].cache; remove it (JSON allows no comma before "}")\n');
    expect(existsSync(out)).toBe(false);
  });

  it('says how to call it (exit 2) when an argument is missing or extra, writing nothing', async () => {
    for (const args of [
      [],
      ['--manifest', 'good.json'],
      ['--out', 'x.js'],
      ['--manifest', 'good.json', '--out', 'x.js', 'extra'],
      ['--manifest', 'good.json', '--out', 'x.js', '--minify'],
      ['--manifest'],
    ]) {
      const { code, stdout, stderr } = await run(tmp, 'build', ...args);
      expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(stderr).toContain('usage: offline-outbox build --manifest <manifest.json> --out <sw.js>');
    }
    expect(existsSync(join(tmp, 'x.js'))).toBe(false);
  });

  it('refuses to write over its own input', async () => {
    const manifest = join(tmp, 'm.json');
    writeFileSync(manifest, readFileSync(join(fixtures, 'good.json')));
    const { code, stderr } = await run(tmp, 'build', '--manifest', 'm.json', '--out', 'm.json');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^m\.json: that is an input of the build/);
    expect(readFileSync(manifest).equals(readFileSync(join(fixtures, 'good.json')))).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// The built worker, run as a browser runs a classic worker script.

const ORIGIN = 'http://127.0.0.1:8080';
const manifest = {
  version: 1,
  routes: [{ match: '/api/items', cache: { strategy: 'network-first', networkTimeoutSeconds: 1 } }],
};

/** Every request that reached the "network" (MSW), in order. */
const requests: string[] = [];
let online = true;
let version = 0;
const server = setupServer(
  http.get(`${ORIGIN}/offline.manifest.json`, () => HttpResponse.json(manifest)),
  http.get(`${ORIGIN}/api/items`, () => (online ? HttpResponse.json({ version: ++version }) : HttpResponse.error())),
);
server.events.on('request:start', ({ request }) => {
  requests.push(`${request.method} ${new URL(request.url).pathname}`);
});

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

let scope: ServiceWorkerScope | undefined;
afterEach(async () => {
  await scope?.teardown();
  scope = undefined;
  Reflect.deleteProperty(globalThis, 'offlineOutboxManifest');
  requests.length = 0;
  online = true;
  version = 0;
});

/**
 * The script's text evaluated in the emulated scope as a classic script
 * (vm.runInThisContext: global code, `self` is the scope's globalThis), the
 * way a browser evaluates sw.js. Importing it as a module would not do: the
 * bundle is an IIFE meant for global code, and Vitest would transform it.
 */
async function startScript(file: string, options: { caches?: CacheStorage; activated?: boolean } = {}): Promise<ServiceWorkerScope> {
  const source = readFileSync(file, 'utf8');
  // Each worker has its own global in a browser; here globalThis outlives a scope, so the last script's inlined manifest goes.
  Reflect.deleteProperty(globalThis, 'offlineOutboxManifest');
  scope = await startWorker({ scriptUrl: `${ORIGIN}/sw.js`, ...options }, async () => runInThisContext(source, { filename: file }));
  return scope;
}

async function get(path: string) {
  const outcome = await scope!.fetch(`${ORIGIN}${path}`);
  expect(await outcome.done).toEqual([]);
  return { handled: outcome.handled, status: outcome.response?.status, body: await outcome.response?.text() };
}

describe('a worker written by build', () => {
  it('installs without fetching a manifest, and serves a cached route offline after one online read', async () => {
    writeFileSync(join(tmp, 'm.json'), JSON.stringify(manifest));
    expect((await run(tmp, 'build', '--manifest', 'm.json', '--out', 'sw.js')).code).toBe(0);

    await startScript(join(tmp, 'sw.js'));
    await scope!.install();
    await scope!.activate();
    // Install may warm the route's own URL (first-visit caching); it never asks for a manifest.
    expect(requests.filter((r) => r !== 'GET /api/items')).toEqual([]);
    requests.length = 0;

    const first = await get('/api/items');
    // The server's latest answer (install may have had one before it).
    expect(first).toEqual({ handled: true, status: 200, body: JSON.stringify({ version }) });
    online = false;
    expect(await get('/api/items')).toEqual(first);
    expect(requests).toEqual(['GET /api/items', 'GET /api/items']);
  });

  it('routes its very first event with no stored manifest: a restart with empty storage, offline', async () => {
    writeFileSync(join(tmp, 'm.json'), JSON.stringify(manifest));
    await run(tmp, 'build', '--manifest', 'm.json', '--out', 'sw.js');
    await startScript(join(tmp, 'sw.js'));
    await scope!.install();
    await scope!.activate();
    const online1 = await get('/api/items');
    const { caches } = scope!;
    await scope!.teardown();

    // Same caches, a new (empty) IndexedDB: nothing stored to read a manifest from.
    online = false;
    requests.length = 0;
    await startScript(join(tmp, 'sw.js'), { caches, activated: true });
    expect(await get('/api/items')).toEqual(online1);
    expect(requests).toEqual(['GET /api/items']);
  });

  it('(control) the plain drop-in worker, run the same way, does fetch its manifest at install', async () => {
    await startScript(distSw);
    await scope!.install();
    expect(requests[0]).toBe('GET /offline.manifest.json');
  });
});
