/**
 * `offline-outbox init [dir]`: puts the drop-in worker, the page script (and
 * the `<outbox-status>` element it loads with `data-ui`) and a starter
 * manifest into a site's folder. It never asks and, without `--force`, never
 * replaces a file that is already there.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckOutput } from './check.js';
import { errorCode, readPackageFile } from './package-files.js';
import { schemaReference } from './schema-reference.js';
import { starterManifest } from './starter-manifest.js';

export interface InitOptions {
  /** Replace files that exist. @default false */
  force?: boolean;
}

export const MANIFEST_FILE = 'offline.manifest.json';

export async function initSite(dir: string, options: InitOptions = {}): Promise<CheckOutput> {
  const sw = await readPackageFile('sw.js');
  const register = await readPackageFile('register.js');
  // register.js loads it from beside itself.
  const status = await readPackageFile('outbox-status.js');
  if (typeof sw === 'string' || typeof register === 'string' || typeof status === 'string')
    return { ok: false, lines: [sw, register, status].filter((x) => typeof x === 'string') };
  const files: [name: string, content: Buffer | string][] = [
    ['sw.js', sw],
    ['register.js', register],
    ['outbox-status.js', status],
    [MANIFEST_FILE, `${JSON.stringify(starterManifest(schemaReference(dir)), null, 2)}\n`],
  ];
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    return { ok: false, lines: [`${dir}: cannot create the folder (${errorCode(error)})`] };
  }

  const lines: string[] = [];
  let kept = false;
  for (const [name, content] of files) {
    const path = join(dir, name);
    try {
      const outcome = await place(path, content, options.force ?? false);
      kept ||= outcome === 'kept';
      lines.push(`${outcome.padEnd(8)} ${path}`);
    } catch (error) {
      return { ok: false, lines: [...lines, `${path}: cannot write it (${errorCode(error)})`] };
    }
  }
  if (kept) lines.push('(files that exist are kept; `--force` replaces them)');
  return { ok: true, lines: [...lines, '', ...nextSteps(join(dir, MANIFEST_FILE))] };
}

/** Writes the file unless it exists; `wx` makes the check and the write one step. */
async function place(path: string, content: Buffer | string, force: boolean): Promise<'wrote' | 'kept' | 'replaced'> {
  try {
    await writeFile(path, content, { flag: 'wx' });
    return 'wrote';
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    if (!force) return 'kept';
    await writeFile(path, content);
    return 'replaced';
  }
}

function nextSteps(manifest: string): string[] {
  return [
    'Next steps:',
    `  1. Edit ${manifest}: the pages and assets to cache,`,
    '     the API reads to cache and the writes to queue. The /api/items routes',
    '     and the "items" resource are examples: rename or remove them.',
    '     /assets/* is cache-first, right for file names with a content hash;',
    '     make it stale-while-revalidate otherwise.',
    `  2. Check it: npx offline-outbox check ${manifest}`,
    "  3. Add to your pages (with this folder served at the site's root):",
    '       <script src="/register.js" defer></script>',
    '  4. Serve the site over HTTPS, or from localhost: service workers need a secure origin.',
  ];
}
