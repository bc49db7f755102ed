/**
 * Files in Vite's public folder that the plugin's own would shadow: the build
 * writes its files over the copies, and the dev server answers first. Most
 * likely left there by `offline-outbox init public`, which the plugin
 * replaces; saying so beats an old worker that seems to win at random.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ResolvedConfig } from 'vite';
import type { ManifestFile } from './manifest-file.js';
import { WORKER_FILES } from './worker-files.js';

export function publicConflicts({ publicDir, root }: ResolvedConfig, manifest: ManifestFile): string[] {
  // "" when the public folder is turned off.
  if (!publicDir) return [];
  const conflicts: string[] = [];
  for (const name of WORKER_FILES) {
    const path = join(publicDir, name);
    if (path === manifest.path || !existsSync(path)) continue;
    const shown = relative(root, path).split('\\').join('/');
    conflicts.push(
      name === 'offline.manifest.json'
        ? `${shown} is shadowed: the plugin serves the manifest it reads from ${manifest.label} at that URL; delete one of them, or set offlineOutbox({ manifest: '${shown}' })`
        : `${shown} is shadowed: the plugin writes and serves its own ${name} at that URL; delete ${shown}`,
    );
  }
  return conflicts;
}
