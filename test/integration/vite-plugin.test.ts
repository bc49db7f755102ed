/**
 * `offline-outbox/vite` as an app uses it: the built plugin (dist/vite.mjs)
 * in Vite's own `build()` and `createServer()`, on a temporary copy of
 * test/fixtures/vite-app. What is asserted is what the user gets: the files
 * in the output, the HTML, the build's error, what the dev server answers.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, createLogger, createServer, type InlineConfig, type Logger, type ViteDevServer } from 'vite';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/outbox-page.js';

type VitePlugin = typeof import('../../vite/index.js');

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/vite-app/', import.meta.url));
const BUILT_PLUGIN = join(DIST, 'vite.mjs');

let offlineOutbox: VitePlugin['offlineOutbox'];
beforeAll(async () => {
  if (!existsSync(BUILT_PLUGIN)) throw new Error(`${BUILT_PLUGIN} is missing: run npm run build first (the test uses the plugin as the package ships it)`);
  ({ offlineOutbox } = (await import(pathToFileURL(BUILT_PLUGIN).href)) as VitePlugin);
});

let app: string;
beforeEach(() => {
  app = mkdtempSync(join(tmpdir(), 'offline-outbox-vite-'));
  cpSync(FIXTURE, app, { recursive: true });
});
afterEach(() => rmSync(app, { recursive: true, force: true }));

const fixtureManifest = () => JSON.parse(readFileSync(join(FIXTURE, 'offline.manifest.json'), 'utf8')) as Record<string, unknown>;
const out = (name: string) => readFileSync(join(app, 'dist', name));
const outText = (name: string) => out(name).toString('utf8');
const dist = (name: string) => readFileSync(join(DIST, name));

/** Warnings and errors the build or server printed, captured instead of shown. */
function quietLogger(): Logger & { said: string[] } {
  const logger = createLogger('silent');
  const said: string[] = [];
  return Object.assign(logger, {
    said,
    warn: (message: string) => void said.push(message),
    warnOnce: (message: string) => void said.push(message),
    error: (message: string) => void said.push(message),
  });
}

const buildApp = (options?: Parameters<typeof offlineOutbox>[0], config: InlineConfig = {}) =>
  build({ root: app, configFile: false, logLevel: 'silent', plugins: [offlineOutbox(options)], ...config });

/** Every `<script …>` tag in a page that loads register.js. */
const registerTags = (html: string) => html.match(/<script\b[^>]*\bsrc="[^"]*register\.js"[^>]*>/g) ?? [];

/** The build's error as Vite reports it: its first (only) plugin error. */
async function buildError(build: Promise<unknown>): Promise<{ plugin: string; pluginCode: string; message: string }> {
  const error = await build.then(
    () => expect.unreachable('the build succeeded'),
    (e: unknown) => e as { errors?: unknown[] },
  );
  return (error.errors?.[0] ?? error) as { plugin: string; pluginCode: string; message: string };
}

describe('vite build', () => {
  it('emits sw.js with the manifest inlined, register.js, outbox-status.js and the manifest at the output root', async () => {
    await buildApp();
    const { $schema: _, ...manifest } = fixtureManifest();
    const head = `self.offlineOutboxManifest = ${JSON.stringify(manifest)};\n`;
    const sw = out('sw.js');
    expect(sw.subarray(0, head.length).toString('utf8')).toBe(head);
    expect(sw.subarray(head.length).equals(dist('sw.js'))).toBe(true);
    expect(out('register.js').equals(dist('register.js'))).toBe(true);
    expect(out('outbox-status.js').equals(dist('outbox-status.js'))).toBe(true);
    // register.js fetches it for the worker's version and the change feed; $schema may name a path on the developer's disk.
    expect(JSON.parse(outText('offline.manifest.json'))).toEqual(manifest);
    // The app's own build is as Vite makes it: hashed assets, the public folder copied.
    expect(
      readdirSync(join(app, 'dist', 'assets'))
        .map((f) => f.replace(/-[\w-]{8}\./, '-#.'))
        .sort(),
    ).toEqual(['index-#.css', 'index-#.js']);
    expect(JSON.parse(outText('items.json')).items).toHaveLength(2);
  });

  it('adds the register.js tag to index.html once', async () => {
    await buildApp();
    expect(registerTags(outText('index.html'))).toEqual(['<script src="/register.js" defer>']);
  });

  it('keeps the page’s own register.js tag, with its attributes, and adds none', async () => {
    const html = readFileSync(join(app, 'index.html'), 'utf8');
    writeFileSync(join(app, 'index.html'), html.replace('</head>', '<script src="/register.js" defer data-ui="#status"></script>\n</head>'));
    await buildApp({ ui: true }, { customLogger: quietLogger() });
    expect(registerTags(outText('index.html'))).toEqual(['<script src="/register.js" defer data-ui="#status">']);
  });

  it('does not count a commented-out tag as the page’s own', async () => {
    const html = readFileSync(join(app, 'index.html'), 'utf8');
    writeFileSync(join(app, 'index.html'), html.replace('</head>', '<!-- <script src="/register.js" defer></script> -->\n</head>'));
    await buildApp();
    expect(registerTags(outText('index.html').replace(/<!--[\s\S]*?-->/g, ''))).toEqual(['<script src="/register.js" defer>']);
  });

  it('mounts <outbox-status> with `ui`: in the corner, or inside the element a selector names', async () => {
    await buildApp({ ui: true });
    expect(registerTags(outText('index.html'))).toEqual(['<script src="/register.js" defer data-ui>']);
    await buildApp({ ui: '#sync-status' });
    expect(registerTags(outText('index.html'))).toEqual(['<script src="/register.js" defer data-ui="#sync-status">']);
  });

  it('honours `base`: the tag points under it, the files stay at the output root', async () => {
    await buildApp({}, { base: '/shop/' });
    expect(registerTags(outText('index.html'))).toEqual(['<script src="/shop/register.js" defer>']);
    expect(existsSync(join(app, 'dist', 'sw.js'))).toBe(true);
  });

  it('tags every HTML entry; with a relative base, each by its own path to the output root', async () => {
    mkdirSync(join(app, 'help'));
    writeFileSync(join(app, 'help', 'index.html'), '<!doctype html><html><head><title>Help</title></head><body><h1>Help</h1></body></html>\n');
    await buildApp({}, { base: './', build: { rollupOptions: { input: [join(app, 'index.html'), join(app, 'help', 'index.html')] } } });
    expect(registerTags(outText('index.html'))).toEqual(['<script src="./register.js" defer>']);
    expect(registerTags(outText('help/index.html'))).toEqual(['<script src="../register.js" defer>']);
  });

  it('reads the manifest from the `manifest` option, relative to the root', async () => {
    mkdirSync(join(app, 'config'));
    const manifest = { version: 1, routes: [{ match: '/', cache: { strategy: 'network-first' } }] };
    writeFileSync(join(app, 'config', 'offline.json'), JSON.stringify(manifest));
    await buildApp({ manifest: 'config/offline.json' });
    expect(outText('sw.js').split('\n')[0]).toBe(`self.offlineOutboxManifest = ${JSON.stringify(manifest)};`);
    expect(JSON.parse(outText('offline.manifest.json'))).toEqual(manifest);
  });

  it('warns when a file in public/ would be shadowed by the plugin’s own (left by `init public`)', async () => {
    writeFileSync(join(app, 'public', 'sw.js'), '// an old copy\n');
    const logger = quietLogger();
    await buildApp({}, { customLogger: logger });
    expect(logger.said.join('\n')).toContain('public/sw.js is shadowed: the plugin writes and serves its own sw.js at that URL; delete public/sw.js');
    expect(outText('sw.js')).toMatch(/^self\.offlineOutboxManifest = /);
  });

  it('fails on an invalid manifest with every problem as `offline-outbox check` prints it, and writes nothing', async () => {
    const manifest = fixtureManifest() as { routes: { cache?: { strategy: string } }[] };
    manifest.routes[0]!.cache!.strategy = 'network-frist';
    manifest.routes[2]!.cache!.strategy = 'cache-frist';
    writeFileSync(join(app, 'offline.manifest.json'), JSON.stringify(manifest, null, 2));

    const error = await buildError(buildApp());
    expect({ plugin: error.plugin, pluginCode: error.pluginCode }).toEqual({ plugin: 'offline-outbox', pluginCode: 'invalid-manifest' });
    expect(error.message).toContain('offline.manifest.json: routes[0].cache.strategy: ');
    expect(error.message).toContain('offline.manifest.json: routes[2].cache.strategy: ');
    const check = await runCli(app, 'check', 'offline.manifest.json');
    expect(check.code).toBe(1);
    expect(error.message).toContain(check.stderr.trimEnd());
    expect(existsSync(join(app, 'dist'))).toBe(false);
  });

  it('fails on a JSON syntax error with its line and column', async () => {
    writeFileSync(join(app, 'offline.manifest.json'), '{\n  "version": 1,\n  "routes": []\n  "resources": {}\n}\n');
    const error = await buildError(buildApp());
    expect(error.pluginCode).toBe('invalid-manifest');
    expect(error.message).toMatch(/offline\.manifest\.json:\d+:\d+: JSON syntax error: /);
    expect(error.message).toContain((await runCli(app, 'check', 'offline.manifest.json')).stderr.trimEnd());
  });

  it('fails when the manifest is missing, saying where it looked and how to fix it', async () => {
    const error = await buildError(buildApp({ manifest: 'offline/missing.json' }));
    expect(error.pluginCode).toBe('manifest-unreadable');
    expect(error.message).toContain('offline/missing.json: cannot read the route manifest (ENOENT); write it there');
    expect(error.message).toContain('offlineOutbox({ manifest })');
  });

  it('rejects an option of the wrong type when the config is loaded, naming it', () => {
    const call = (options: unknown) => () => offlineOutbox(options as Parameters<typeof offlineOutbox>[0]);
    expect(call({ manifest: 42 })).toThrow(expect.objectContaining({ code: 'invalid-option', message: expect.stringContaining('manifest: expected') }));
    expect(call({ ui: 'yes' })).not.toThrow();
    expect(call({ ui: 1 })).toThrow(expect.objectContaining({ code: 'invalid-option', message: expect.stringContaining('ui: expected') }));
    expect(call({ dev: 'no' })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
  });
});

describe('vite dev', () => {
  let server: ViteDevServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function startDev(options?: Parameters<typeof offlineOutbox>[0], config: InlineConfig = {}) {
    const logger = quietLogger();
    server = await createServer({
      root: app,
      configFile: false,
      customLogger: logger,
      server: { host: '127.0.0.1', port: 0, strictPort: true, ws: false },
      plugins: [offlineOutbox(options)],
      ...config,
    });
    await server.listen();
    const { port } = server.httpServer!.address() as { port: number };
    const origin = `http://127.0.0.1:${port}`;
    const get = async (path: string) => {
      const response = await fetch(`${origin}${path}`);
      return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
    };
    return { get, logger };
  }

  it('serves sw.js with the current manifest inlined, register.js and the manifest, and tags the page', async () => {
    const { get } = await startDev();
    const { $schema: _, ...manifest } = fixtureManifest();
    const sw = await get('/sw.js');
    expect({ status: sw.status, type: sw.type }).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(sw.body.startsWith(`self.offlineOutboxManifest = ${JSON.stringify(manifest)};\n`)).toBe(true);
    expect(sw.body.endsWith(dist('sw.js').toString('utf8'))).toBe(true);
    expect(await get('/register.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8', body: dist('register.js').toString('utf8') });
    expect(await get('/outbox-status.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8', body: dist('outbox-status.js').toString('utf8') });
    const served = await get('/offline.manifest.json');
    expect(JSON.parse(served.body)).toEqual(manifest);
    expect(registerTags((await get('/')).body)).toEqual(['<script src="/register.js" defer>']);
  });

  it('serves them under `base`', async () => {
    const { get } = await startDev({ ui: true }, { base: '/shop/' });
    expect((await get('/shop/sw.js')).body).toMatch(/^self\.offlineOutboxManifest = /);
    expect((await get('/shop/register.js')).status).toBe(200);
    expect(registerTags((await get('/shop/')).body)).toEqual(['<script src="/shop/register.js" defer data-ui>']);
  });

  it('follows the manifest as it is edited: problems as a 500 and in the terminal, then the fixed worker', async () => {
    const { get, logger } = await startDev();
    const file = join(app, 'offline.manifest.json');
    const manifest = fixtureManifest() as { routes: { cache?: { strategy: string } }[] };
    manifest.routes[0]!.cache!.strategy = 'network-frist';
    writeFileSync(file, JSON.stringify(manifest, null, 2));

    let sw = await get('/sw.js');
    await eventually(async () => (sw = await get('/sw.js')).status === 500, 'sw.js to answer the broken manifest with 500', 10_000);
    expect(sw.type).toBe('text/plain; charset=utf-8');
    expect(sw.body).toContain('offline.manifest.json: routes[0].cache.strategy: ');
    expect((await get('/offline.manifest.json')).status).toBe(500);
    // The page scripts do not depend on the manifest.
    expect((await get('/register.js')).status).toBe(200);
    expect(logger.said.join('\n')).toContain('offline.manifest.json: routes[0].cache.strategy: ');

    manifest.routes[0]!.cache!.strategy = 'stale-while-revalidate';
    writeFileSync(file, JSON.stringify(manifest, null, 2));
    await eventually(async () => (sw = await get('/sw.js')).status === 200, 'sw.js to answer again once the manifest is fixed', 10_000);
    expect(sw.body.split('\n')[0]).toContain('{"match":"/","cache":{"strategy":"stale-while-revalidate"}}');
  }, 30_000);

  it('with `dev: false`, neither serves the worker nor tags the page', async () => {
    const { get } = await startDev({ dev: false });
    expect((await get('/sw.js')).body).not.toMatch(/^self\.offlineOutboxManifest/);
    expect(registerTags((await get('/')).body)).toEqual([]);
  });
});
