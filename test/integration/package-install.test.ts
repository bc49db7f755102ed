/**
 * The package as a user gets it: packed into the tarball `npm publish` would
 * upload, installed into a fresh app, and the README's first steps run there
 * through `npx`, as a user types them.
 *
 * Needs a built dist/ (`npm test` builds first): the pack passes
 * --ignore-scripts, or it would run `prepare`, a full build. The install
 * fetches the runtime dependencies (workbox-*, idb-keyval) from npm's cache
 * (`npm ci` fills it), else from the registry.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** npm install takes 3 s from a warm cache and a minute or more from the registry. */
const INSTALL_TIMEOUT_MS = 240_000;
const COMMAND_TIMEOUT_MS = 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` in `cwd`; resolves with its exit code and output, whatever the code. */
async function sh(cwd: string, command: string, ...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as Run;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Packed {
  filename: string;
  files: { path: string }[];
}

const pkg: { exports: unknown; bin: Record<string, string> } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
let scratch: string;
let tarball: string;
let packed: Packed;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli.mjs'))) throw new Error('dist/ is not built: run `npm run build` before this test (npm test does).');
  scratch = mkdtempSync(join(tmpdir(), 'offline-outbox-install-'));
  const pack = await sh(ROOT, 'npm', 'pack', '--ignore-scripts', '--json', '--pack-destination', scratch);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  [packed] = JSON.parse(pack.stdout);
  tarball = join(scratch, packed.filename);
}, COMMAND_TIMEOUT_MS);
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', json: 'application/json' };

/** A folder served on 127.0.0.1 as a plain static server serves it (revalidated, not no-store). */
async function serveFolder(folder: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = join(folder, path === '/' ? 'index.html' : path);
    if (!file.startsWith(folder) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[file.split('.').pop()!] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every file path an `exports` map names, whatever the nesting of its conditions. */
const targets = (value: unknown): string[] => (typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(targets) : []);
const inPackage = (path: string) => path.replace(/^\.\//, '');

describe('the packed tarball', () => {
  it('holds only dist/, package.json, README.md and a LICENSE', () => {
    const paths = packed.files.map((file) => file.path);
    expect(paths.filter((path) => !path.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(path))).toEqual([]);
    expect(paths).toContain('README.md');
    expect(paths).toContain('package.json');
  });

  it('holds every file that exports and bin name', () => {
    const paths = new Set(packed.files.map((file) => file.path));
    const named = [...targets(pkg.exports), ...Object.values(pkg.bin)].map(inPackage);
    expect(named).toEqual(expect.arrayContaining(['dist/cli.mjs', 'dist/sw.js', 'dist/server.mjs', 'dist/server.d.ts', 'package.json']));
    expect(named.filter((path) => !paths.has(path))).toEqual([]);
  });
});

describe('installed from the tarball into a fresh app', () => {
  let app: string;
  const inApp = (...path: string[]) => join(app, ...path);
  const installed = (...path: string[]) => inApp('node_modules', 'offline-outbox', ...path);
  // As the README types it, with --no-install so that a missing local bin
  // fails here instead of npx fetching some other copy. (Not `--no`: npx 11
  // then answers `--help` itself.)
  const npx = (...args: string[]) => sh(app, 'npx', '--no-install', 'offline-outbox', ...args);
  const PAGE = '<!doctype html>\n<title>app</title>\n<p>Hello</p>\n';

  beforeAll(async () => {
    app = join(scratch, 'app');
    mkdirSync(join(app, 'public'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    writeFileSync(join(app, 'public', 'index.html'), PAGE);
    const install = await sh(app, 'npm', 'install', tarball, '--no-audit', '--no-fund', '--prefer-offline');
    if (install.code !== 0) throw new Error(`npm install ${tarball} failed (${install.code}):\n${install.stderr}`);
  }, INSTALL_TIMEOUT_MS);

  it('is a dependency of the app, with the built files and no build of its own', () => {
    expect(JSON.parse(readFileSync(inApp('package.json'), 'utf8')).dependencies).toEqual({ 'offline-outbox': expect.stringMatching(/^file:.*\.tgz$/) });
    // What was packed is what is installed: a tarball never runs `prepare`.
    expect(readFileSync(installed('dist', 'sw.js')).equals(readFileSync(join(ROOT, 'dist', 'sw.js')))).toBe(true);
  });

  it(
    "runs the README's steps: npx offline-outbox init public, check, the tag, then doctor against the served site",
    async () => {
      const help = await npx('--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^usage: offline-outbox <command>/);

      const init = await npx('init', 'public');
      expect({ code: init.code, stderr: init.stderr }).toEqual({ code: 0, stderr: '' });
      expect(init.stdout.split('\n').slice(0, 4)).toEqual([
        `wrote    ${join('public', 'sw.js')}`,
        `wrote    ${join('public', 'register.js')}`,
        `wrote    ${join('public', 'outbox-status.js')}`,
        `wrote    ${join('public', 'offline.manifest.json')}`,
      ]);
      for (const name of ['sw.js', 'register.js', 'outbox-status.js']) {
        expect(readFileSync(inApp('public', name)).equals(readFileSync(installed('dist', name))), name).toBe(true);
      }
      expect(readFileSync(inApp('public', 'index.html'), 'utf8')).toBe(PAGE);
      // The editor's "$schema" reaches the installed package's schema.
      const manifestPath = inApp('public', 'offline.manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      expect(resolve(dirname(manifestPath), manifest.$schema)).toBe(installed('dist', 'manifest.schema.json'));
      expect(existsSync(installed('dist', 'manifest.schema.json'))).toBe(true);

      const check = await npx('check', join('public', 'offline.manifest.json'));
      expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: '' });
      const lines = check.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`${join('public', 'offline.manifest.json')}: valid, ${manifest.routes.length} routes`);
      expect(lines.slice(1).map((line) => line.match(/^routes\[(\d+)\] /)?.[1])).toEqual(manifest.routes.map((_: unknown, i: number) => String(i)));

      // Step 3, the tag; then doctor, against the site served as a plain static server would.
      writeFileSync(inApp('public', 'index.html'), PAGE.replace('<p>', '<script src="/register.js" defer></script>\n<p>'));
      const site = await serveFolder(inApp('public'));
      try {
        const doctor = await npx('doctor', site.url, '--json');
        const report = JSON.parse(doctor.stdout) as { findings: { check: string; subject: string; verdict: string }[]; blockers: number };
        expect({ code: doctor.code, blockers: report.blockers }).toEqual({ code: 0, blockers: 0 });
        const verdict = (check: string) => report.findings.find((f) => f.check === check)?.verdict;
        expect(['script-tag', 'worker', 'scope', 'manifest', 'page'].map(verdict)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      } finally {
        await site.close();
      }
    },
    COMMAND_TIMEOUT_MS,
  );

  it(
    'resolves every entry point through the exports map in Node',
    async () => {
      const script = `
        const [server, client, vite] = await Promise.all(['server', 'client', 'vite'].map((name) => import('offline-outbox/' + name)));
        const schema = await import('offline-outbox/manifest.schema.json', { with: { type: 'json' } });
        console.log(JSON.stringify({
          server: [typeof server.idempotency, typeof server.changeFeed, typeof server.memoryStore],
          client: typeof client.connectOutbox,
          vite: typeof vite.offlineOutbox,
          files: ['sw', 'sw.js', 'register.js', 'outbox-status.js', 'package.json'].map((name) => import.meta.resolve('offline-outbox/' + name)),
          schema: schema.default.$schema,
        }));
        await import('offline-outbox').catch((error) => console.log(error.code));
      `;
      const node = await sh(app, process.execPath, '--input-type=module', '-e', script);
      expect({ code: node.code, stderr: node.stderr }).toEqual({ code: 0, stderr: '' });
      const [json = '', bare] = node.stdout.trimEnd().split('\n');
      expect(JSON.parse(json)).toEqual({
        server: ['function', 'function', 'function'],
        client: 'function',
        vite: 'function',
        files: ['dist/sw.mjs', 'dist/sw.js', 'dist/register.js', 'dist/outbox-status.js', 'package.json'].map((path) => `file://${installed(path)}`),
        schema: 'https://json-schema.org/draft/2020-12/schema',
      });
      // There is no "." export: a user imports a subpath, never the bare name.
      expect(bare).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    },
    COMMAND_TIMEOUT_MS,
  );

  it(
    'gives TypeScript its declarations for every module, under node16 resolution',
    async () => {
      writeFileSync(
        inApp('tsconfig.json'),
        JSON.stringify({
          compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
          files: ['app.mts'],
        }),
      );
      writeFileSync(
        inApp('app.mts'),
        [
          "import type { OutboxClient } from 'offline-outbox/client';",
          "import type { IdempotencyOptions } from 'offline-outbox/server';",
          "import type { Manifest } from 'offline-outbox/sw';",
          "import type { OfflineOutboxOptions } from 'offline-outbox/vite';",
          'export const manifest: Manifest = { version: 1, routes: [] };',
          '// @ts-expect-error "version" is the literal 1; were the declarations missing (any), this would be no error.',
          "export const wrong: Manifest = { version: 'one', routes: [] };",
          'export type Used = [OutboxClient, IdempotencyOptions, OfflineOutboxOptions];',
          '',
        ].join('\n'),
      );
      const tsc = await sh(app, process.execPath, TSC, '-p', 'tsconfig.json');
      expect({ code: tsc.code, stdout: tsc.stdout }).toEqual({ code: 0, stdout: '' });
    },
    COMMAND_TIMEOUT_MS,
  );
});
