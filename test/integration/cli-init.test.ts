import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const dist = (name: string) => readFileSync(fileURLToPath(new URL(`../../dist/${name}`, import.meta.url)));

const run = runCli;

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'offline-outbox-init-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const read = (...path: string[]) => readFileSync(join(tmp, ...path));

describe('offline-outbox init', () => {
  it('writes the worker, the page script and a starter manifest, and says what to do next', async () => {
    const { code, stdout, stderr } = await run(tmp, 'init', 'public');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n').slice(0, 4)).toEqual([
      `wrote    ${join('public', 'sw.js')}`,
      `wrote    ${join('public', 'register.js')}`,
      `wrote    ${join('public', 'outbox-status.js')}`,
      `wrote    ${join('public', 'offline.manifest.json')}`,
    ]);
    expect(stdout).toContain(`npx offline-outbox check ${join('public', 'offline.manifest.json')}`);
    expect(stdout).toContain('<script src="/register.js" defer></script>');
    expect(stdout).toMatch(/HTTPS.*localhost/);
    expect(read('public', 'sw.js').equals(dist('sw.js'))).toBe(true);
    expect(read('public', 'register.js').equals(dist('register.js'))).toBe(true);
    // register.js loads the <outbox-status> element from beside itself.
    expect(read('public', 'outbox-status.js').equals(dist('outbox-status.js'))).toBe(true);
  });

  it('writes a manifest that passes check, with the shell, an example read and a queued write', async () => {
    await run(tmp, 'init', 'public');
    const check = await run(tmp, 'check', join('public', 'offline.manifest.json'));
    expect(check).toMatchObject({ code: 0, stderr: '' });

    const manifest = JSON.parse(read('public', 'offline.manifest.json').toString('utf8'));
    const route = (match: string, method = 'GET') =>
      manifest.routes.find((r: { match: string; methods?: string[] }) => r.match === match && (r.methods ?? ['GET']).includes(method));
    expect(route('/')).toMatchObject({ cache: { strategy: 'network-first', networkTimeoutSeconds: 3 } });
    expect(route('/assets/*')).toMatchObject({ cache: { strategy: 'cache-first', maxEntries: expect.any(Number) } });
    expect(route('/register.js')).toMatchObject({ cache: { strategy: 'stale-while-revalidate' } });
    expect(route('/api/items')).toMatchObject({ cache: { strategy: 'network-first' } });
    expect(route('/api/items', 'POST')).toMatchObject({ queue: {}, resource: 'items' });
    expect(manifest.resources.items).toMatchObject({ collection: '/api/items', item: '/api/items/:id' });
  });

  it('names the schema of the offline-outbox installed from the current folder, relative to the manifest', async () => {
    // The package, installed where the project's node_modules is, above the folder init runs in (a link, as npm link or a workspace makes).
    mkdirSync(join(tmp, 'node_modules'));
    symlinkSync(fileURLToPath(new URL('../../', import.meta.url)), join(tmp, 'node_modules', 'offline-outbox'), 'dir');
    mkdirSync(join(tmp, 'app'));
    expect((await run(join(tmp, 'app'), 'init', join('site', 'public'))).code).toBe(0);

    const text = read('app', 'site', 'public', 'offline.manifest.json').toString('utf8');
    expect(text.split('\n').slice(0, 3)).toEqual(['{', '  "$schema": "../../../node_modules/offline-outbox/dist/manifest.schema.json",', '  "version": 1,']);
    // The path reaches the built schema through the link, and the schema accepts the manifest.
    const manifest = JSON.parse(text);
    const schema = JSON.parse(readFileSync(resolve(tmp, 'app', 'site', 'public', manifest.$schema), 'utf8'));
    expect(schema).toEqual(JSON.parse(dist('manifest.schema.json').toString('utf8')));
    const accepts = new Ajv2020({ strictRequired: false }).compile(schema);
    expect(accepts(manifest), JSON.stringify(accepts.errors)).toBe(true);
  });

  it('without the package installed, names the schema where npm install will put it in the current folder', async () => {
    await run(tmp, 'init', 'public');
    expect(JSON.parse(read('public', 'offline.manifest.json').toString('utf8')).$schema).toBe('../node_modules/offline-outbox/dist/manifest.schema.json');
    await run(tmp, 'init');
    expect(JSON.parse(read('offline.manifest.json').toString('utf8')).$schema).toBe('node_modules/offline-outbox/dist/manifest.schema.json');
  });

  it('writes into the current folder by default', async () => {
    expect((await run(tmp, 'init')).code).toBe(0);
    const files = ['sw.js', 'register.js', 'outbox-status.js', 'offline.manifest.json'];
    expect(files.map((f) => existsSync(join(tmp, f)))).toEqual([true, true, true, true]);
  });

  it('keeps files that exist, writes the missing ones, and exits 0', async () => {
    await run(tmp, 'init', 'public');
    const edited = '{ "version": 1, "routes": [{ "match": "/", "cache": { "strategy": "network-first" } }] }\n';
    writeFileSync(join(tmp, 'public', 'offline.manifest.json'), edited);
    unlinkSync(join(tmp, 'public', 'register.js'));

    const { code, stdout } = await run(tmp, 'init', 'public');
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(0, 5)).toEqual([
      `kept     ${join('public', 'sw.js')}`,
      `wrote    ${join('public', 'register.js')}`,
      `kept     ${join('public', 'outbox-status.js')}`,
      `kept     ${join('public', 'offline.manifest.json')}`,
      '(files that exist are kept; `--force` replaces them)',
    ]);
    expect(read('public', 'offline.manifest.json').toString('utf8')).toBe(edited);
    expect(read('public', 'sw.js').equals(dist('sw.js'))).toBe(true);
    expect(read('public', 'register.js').equals(dist('register.js'))).toBe(true);
  });

  it('with --force, replaces the files that exist', async () => {
    await run(tmp, 'init', 'public');
    const starter = read('public', 'offline.manifest.json');
    writeFileSync(join(tmp, 'public', 'offline.manifest.json'), '{}');
    writeFileSync(join(tmp, 'public', 'sw.js'), '// old worker');

    const { code, stdout } = await run(tmp, 'init', 'public', '--force');
    expect(code).toBe(0);
    expect(stdout).toContain(`replaced ${join('public', 'offline.manifest.json')}`);
    expect(read('public', 'offline.manifest.json').equals(starter)).toBe(true);
    expect(read('public', 'sw.js').equals(dist('sw.js'))).toBe(true);
  });

  it('creates a nested folder that does not exist yet', async () => {
    const { code } = await run(tmp, 'init', join('site', 'static', 'public'));
    expect(code).toBe(0);
    expect(read('site', 'static', 'public', 'sw.js').equals(dist('sw.js'))).toBe(true);
    expect(existsSync(join(tmp, 'site', 'static', 'public', 'offline.manifest.json'))).toBe(true);
  });

  it('refuses more than one folder or an unknown option (exit 2), writing nothing', async () => {
    expect(await run(tmp, 'init', 'a', 'b')).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('usage: offline-outbox init [dir] [--force]') });
    expect(await run(tmp, 'init', '--frobnicate')).toMatchObject({ code: 2, stdout: '' });
    expect(existsSync(join(tmp, 'a')) || existsSync(join(tmp, 'sw.js'))).toBe(false);
  });

  it('says so (exit 1) when the folder cannot be made', async () => {
    writeFileSync(join(tmp, 'taken'), 'a file, not a folder');
    const { code, stderr } = await run(tmp, 'init', join('taken', 'public'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^taken[/\\]public: cannot create the folder \(ENOTDIR\)/);
  });
});
