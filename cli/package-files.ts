/**
 * The package's own built files. The command runs as dist/cli.mjs, so they
 * sit beside it; `init` copies them and `build` prepends a manifest to one.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export type PackageFile = 'sw.js' | 'register.js' | 'outbox-status.js';

export const packageFilePath = (name: PackageFile): string => fileURLToPath(new URL(`./${name}`, import.meta.url));

/** The file's bytes, or a message saying it is missing and how to get it. */
export async function readPackageFile(name: PackageFile): Promise<Buffer | string> {
  const path = packageFilePath(name);
  try {
    return await readFile(path);
  } catch (error) {
    return `${path}: cannot read it (${errorCode(error)}); reinstall offline-outbox, or run \`npm run build\` in its checkout`;
  }
}

export const errorCode = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);
