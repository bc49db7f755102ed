/** The plugin's hooks: the build, the dev server and the pages' HTML. */
import type { Plugin, ResolvedConfig } from 'vite';
import type { Manifest } from '../sw/manifest/types.js';
import { serveWorkerFiles } from './dev-server.js';
import { locateManifest, type ManifestFile, readManifest } from './manifest-file.js';
import { type OfflineOutboxOptions, resolveOptions } from './options.js';
import { publicConflicts } from './public-conflicts.js';
import { hasRegisterTag, registerTag } from './register-tag.js';
import { WORKER_FILES, workerFile } from './worker-files.js';

/**
 * The drop-in worker for a Vite app. At build it checks the route manifest
 * as `offline-outbox check` does (a problem fails the build), emits sw.js
 * (the manifest inlined), register.js, outbox-status.js and the manifest at
 * the root of the output, under `base`, and adds the register.js tag to
 * every HTML page; `vite dev` serves the same files, and `vite preview`
 * serves the output. The app's own code is never touched.
 *
 * @example
 * // vite.config.js
 * import { offlineOutbox } from 'offline-outbox/vite';
 * export default { plugins: [offlineOutbox({ manifest: 'offline.manifest.json' })] };
 */
export function offlineOutbox(options: OfflineOutboxOptions = {}): Plugin {
  const { manifest: manifestOption, ui, dev } = resolveOptions(options);
  let config: ResolvedConfig;
  let file: ManifestFile;
  // The build's checked manifest, between buildStart and generateBundle.
  let manifest: Manifest | undefined;

  /** Vite ≥ 6 runs a build's hooks once per environment; Vite 5 has one, SSR or not. The worker is the browser's. */
  const forBrowser = (context: { environment?: { config: { consumer: string } } }) =>
    config.command === 'build' && (context.environment ? context.environment.config.consumer === 'client' : !config.build.ssr);

  return {
    name: 'offline-outbox',

    configResolved(resolved) {
      config = resolved;
      file = locateManifest(resolved.root, manifestOption);
    },

    async buildStart() {
      if (!forBrowser(this)) return;
      // `vite build --watch` rebuilds when the manifest changes.
      this.addWatchFile(file.path);
      const read = await readManifest(file);
      if (!read.ok) this.error(read.error);
      manifest = read.manifest;
      for (const conflict of publicConflicts(config, file)) this.warn(conflict);
    },

    async generateBundle() {
      if (!forBrowser(this) || !manifest) return;
      for (const name of WORKER_FILES) {
        const emitted = await workerFile(name, manifest);
        if (!emitted.ok) this.error(emitted.error);
        this.emitFile({ type: 'asset', fileName: name, source: emitted.bytes });
      }
    },

    configureServer(server) {
      if (!dev) return;
      for (const conflict of publicConflicts(config, file)) config.logger.warn(`offline-outbox: ${conflict}`);
      serveWorkerFiles(server, file);
    },

    // After Vite's own HTML transform (the default order), which would otherwise warn that a classic script cannot be bundled.
    transformIndexHtml(html, { path }) {
      if ((config.command === 'serve' && !dev) || hasRegisterTag(html)) return;
      return [registerTag(config.base, path, ui)];
    },
  };
}
