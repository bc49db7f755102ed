/**
 * `offline-outbox build --manifest <m.json> --out <sw.js>`: the drop-in worker
 * with its manifest inlined as `self.offlineOutboxManifest`, which sw-entry
 * prefers to fetching one. Such a worker routes from its first event and
 * never reads a manifest at install; a changed manifest changes the worker's
 * own bytes, which is what makes a browser install it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readManifestFile, type CheckOutput } from './check.js';
import { errorCode, packageFilePath, readPackageFile } from './package-files.js';
import type { Manifest } from '../sw/manifest/types.js';

const KB = 1000; // bytes, as the build's size report counts them

/**
 * The worker's first line. JSON is an expression in JavaScript (ES2019 allows
 * U+2028 and U+2029 in strings). `$schema` is for editors: the worker has no
 * use for it, and it may name a path on the developer's disk.
 */
export const inlineManifest = ({ $schema: _, ...manifest }: Manifest): string => `self.offlineOutboxManifest = ${JSON.stringify(manifest)};\n`;

/** Writes nothing unless the manifest is valid; the problems are check's. */
export async function buildWorker(manifestFile: string, outFile: string): Promise<CheckOutput> {
  const read = await readManifestFile(manifestFile);
  if (!read.ok) return read;
  const out = resolve(outFile);
  if (out === resolve(manifestFile) || out === packageFilePath('sw.js')) {
    return { ok: false, lines: [`${outFile}: that is an input of the build; write the worker to another file`] };
  }
  const sw = await readPackageFile('sw.js');
  if (typeof sw === 'string') return { ok: false, lines: [sw] };

  const worker = Buffer.concat([Buffer.from(inlineManifest(read.manifest)), sw]);
  try {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, worker);
  } catch (error) {
    return { ok: false, lines: [`${outFile}: cannot write it (${errorCode(error)})`] };
  }
  const size = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;
  const routes = read.manifest.routes.length;
  return {
    ok: true,
    lines: [`wrote ${outFile}: ${size(worker.length)}, ${size(gzipSync(worker, { level: 9 }).length)} gzipped (${routes} route${routes === 1 ? '' : 's'} inlined)`],
  };
}
