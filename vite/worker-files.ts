/**
 * The four files the plugin puts at the root of the output (under Vite's
 * `base`) and serves in `vite dev`. register.js finds the others by these
 * names beside itself: sw.js, the manifest beside sw.js, and
 * outbox-status.js, which it loads only with `data-ui`.
 */
import { inlineManifest } from '../cli/build.js';
import { readPackageFile } from '../cli/package-files.js';
import type { Manifest } from '../sw/manifest/types.js';
import { pluginError, type PluginErrorData } from './plugin-error.js';

export const WORKER_FILES = ['sw.js', 'register.js', 'outbox-status.js', 'offline.manifest.json'] as const;

export type WorkerFileName = (typeof WORKER_FILES)[number];

/** The files that are the same whatever the manifest says. */
export type PageScript = 'register.js' | 'outbox-status.js';

export const isPageScript = (name: WorkerFileName): name is PageScript => name === 'register.js' || name === 'outbox-status.js';

export const CONTENT_TYPES: Record<WorkerFileName, string> = {
  'sw.js': 'text/javascript; charset=utf-8',
  'register.js': 'text/javascript; charset=utf-8',
  'outbox-status.js': 'text/javascript; charset=utf-8',
  'offline.manifest.json': 'application/json; charset=utf-8',
};

export type WorkerFile = { ok: true; bytes: Uint8Array } | { ok: false; error: PluginErrorData };

/**
 * One file's bytes. The worker routes by the manifest it inlines; the
 * manifest file is for register.js, which hashes it into the worker's URL
 * and reads its change feed. Both leave out `$schema`, which is for editors
 * and may name a path on the developer's disk.
 */
export async function workerFile(name: WorkerFileName, manifest: Manifest): Promise<WorkerFile> {
  if (name === 'offline.manifest.json') {
    const { $schema: _, ...served } = manifest;
    return { ok: true, bytes: Buffer.from(`${JSON.stringify(served, null, 2)}\n`) };
  }
  if (isPageScript(name)) return pageScript(name);
  const worker = await packageFile('sw.js');
  return worker.ok ? { ok: true, bytes: Buffer.concat([Buffer.from(inlineManifest(manifest)), worker.bytes]) } : worker;
}

export const pageScript = (name: PageScript): Promise<WorkerFile> => packageFile(name);

/** Read from beside dist/vite.mjs, where the package's build put them, at each use: they are small. */
async function packageFile(name: 'sw.js' | PageScript): Promise<WorkerFile> {
  const bytes = await readPackageFile(name);
  return typeof bytes === 'string' ? { ok: false, error: pluginError('package-file-missing', bytes) } : { ok: true, bytes };
}
