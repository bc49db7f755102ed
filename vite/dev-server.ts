/**
 * `vite dev`: the same four files the build emits, served at `<base>sw.js`
 * and so on, with the manifest as it is now on disk. It is read at start and
 * again whenever it changes; a change reloads the page, whose register.js
 * then installs the new worker. An invalid manifest is reported once per
 * change (terminal and Vite's overlay) and, until it is fixed, sw.js and the
 * manifest answer 500 with the problems as the body, so the browser keeps
 * the worker it has, as it would after a failed deploy.
 *
 * The caveat of a worker in dev: it caches what the dev server serves, under
 * the manifest's routes. A cache-first or stale-while-revalidate route can
 * answer an edited file with its previous copy (Vite's modules change
 * without changing their URLs), so such routes are best kept to hashed
 * build assets, or the plugin's `dev` option turned off.
 */
import { resolve } from 'node:path';
import type { ViteDevServer } from 'vite';
import { type ManifestFile, type ManifestResult, readManifest } from './manifest-file.js';
import type { PluginErrorData } from './plugin-error.js';
import { CONTENT_TYPES, isPageScript, pageScript, WORKER_FILES, type WorkerFile, type WorkerFileName, workerFile } from './worker-files.js';

const PREFIX = 'offline-outbox:';

export function serveWorkerFiles(server: ViteDevServer, file: ManifestFile): void {
  const { base, logger } = server.config;
  const names = new Map<string, WorkerFileName>(WORKER_FILES.map((name) => [`${base}${name}`, name]));

  // Only a valid read is kept: a watcher event can come while the editor is
  // still writing (an empty or half file), and its last event may be
  // throttled away, so a failed read is retried on the next request. Each
  // distinct problem is reported once.
  let current: Promise<ManifestResult> | undefined;
  let reported: string | undefined;
  const manifest = () =>
    (current ??= readManifest(file).then((result) => {
      if (result.ok) reported = undefined;
      else {
        current = undefined;
        if (reported !== result.error.message) report(result.error);
        reported = result.error.message;
      }
      return result;
    }));
  const report = (error: PluginErrorData) => {
    logger.error(`${PREFIX} ${error.message}`, { timestamp: true });
    // Pages open now see it over the app, as they would a module's syntax error.
    server.ws.send({ type: 'error', err: { message: error.message, stack: '', plugin: 'offline-outbox', pluginCode: error.code } });
  };

  server.watcher.add(file.path);
  server.watcher.on('all', (_event, changed) => {
    if (resolve(changed) !== file.path) return;
    current = undefined;
    void manifest().then((result) => {
      if (!result.ok) return;
      logger.info(`${PREFIX} ${file.label} changed; reloading the page installs the worker with it`, { timestamp: true });
      server.ws.send({ type: 'full-reload' });
    });
  });
  // Problems show in the terminal at start, before any page asks for the worker.
  void manifest();

  server.middlewares.use((req, res, next) => {
    const name = names.get((req.url ?? '').split('?')[0]!);
    if (!name || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    answer(name)
      .then(({ status, bytes }) => {
        res.writeHead(status, { 'content-type': status === 200 ? CONTENT_TYPES[name] : 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
        res.end(req.method === 'HEAD' ? undefined : bytes);
      })
      .catch(next);
  });

  async function answer(name: WorkerFileName): Promise<{ status: number; bytes: Uint8Array | string }> {
    let served: WorkerFile;
    if (isPageScript(name)) served = await pageScript(name);
    else {
      const read = await manifest();
      if (!read.ok) return failure(read.error);
      served = await workerFile(name, read.manifest);
    }
    if (!served.ok) {
      logger.error(`${PREFIX} ${served.error.message}`, { timestamp: true });
      return failure(served.error);
    }
    return { status: 200, bytes: served.bytes };
  }
}

/** The problems as plain text: what the developer sees opening the URL, or in devtools' network panel. */
const failure = (error: PluginErrorData) => ({ status: 500, bytes: `${PREFIX} ${error.code}\n${error.message}\n` });
